/**
 * One OP and one example app per describe. A failure to start either is kept and thrown by every test of
 * the describe (rather than by beforeAll, which vitest reports as skipped tests): a missing OP fails the
 * run loudly, test by test, with the reason.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startApp } from './example-app.js';
import type { Adapter, RunningApp } from './example-app.js';
import type { Op } from './ops.js';

export interface Running {
  op(): Op;
  app(): RunningApp;
}

export function useOpAndApp(adapter: Adapter, start: () => Promise<Op>): Running {
  let op: Op | undefined;
  let app: RunningApp | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      op = await start();
      app = await startApp(adapter, op.env);
    } catch (err) {
      failure = err;
    }
  });
  afterAll(async () => {
    await app?.close();
    await op?.stop();
  });
  beforeEach(({ onTestFailed }) => {
    if (failure) throw failure;
    onTestFailed(() => console.error(`example app output:\n${app?.output()}`));
  });
  return { op: () => op as Op, app: () => app as RunningApp };
}
