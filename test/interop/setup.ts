/**
 * One OP, one example app and one Chromium (Debian's, fresh profile) per describe. Each test gets a new tab
 * and no cookies, so it starts logged out everywhere, as in a fresh browser, without paying for a launch.
 * A failure to start any of them is kept and thrown by every test of the describe (rather than by
 * beforeAll, which vitest reports as skipped tests): a missing OP fails the run loudly, test by test.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { ARGS, CHROMIUM, requireChromium, screenshots } from '../browser/browser.js';
import type { Browser } from '../browser/browser.js';
import { startApp } from './example-app.js';
import type { Adapter, RunningApp } from './example-app.js';
import type { Op } from './ops.js';

export interface Running {
  op(): Op;
  app(): RunningApp;
  /** Runs `body` in a new tab of the describe's browser, with every cookie cleared first. */
  inBrowser(body: (browser: Browser) => Promise<void>): Promise<void>;
}

export function useOpAndApp(adapter: Adapter, start: () => Promise<Op>): Running {
  let op: Op | undefined;
  let app: RunningApp | undefined;
  let context: BrowserContext | undefined;
  let profile: string | undefined;
  let failure: unknown;
  beforeAll(async () => {
    try {
      requireChromium();
      op = await start();
      app = await startApp(adapter, op.env);
      profile = await mkdtemp(join(tmpdir(), 'oidc-session-interop-chromium-'));
      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
      context.setDefaultTimeout(15_000);
    } catch (err) {
      failure = err;
    }
  });
  afterAll(async () => {
    await context?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    await app?.close();
    await op?.stop();
  });
  beforeEach(({ onTestFailed }) => {
    if (failure) throw failure;
    onTestFailed(() => console.error(`example app output:\n${app?.output()}`));
  });
  return {
    op: () => op as Op,
    app: () => app as RunningApp,
    async inBrowser(body) {
      const ctx = context as BrowserContext;
      for (const open of ctx.pages()) await open.close();
      await ctx.clearCookies();
      const page = await ctx.newPage();
      try {
        await body({ context: ctx, page });
      } catch (err) {
        await screenshots(ctx);
        throw err;
      }
    },
  };
}
