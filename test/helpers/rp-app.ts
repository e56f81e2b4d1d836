import request from 'supertest';
import type { HostileOp } from './hostile-op.js';
import { localPath } from './rp-common.js';
import { createRpApp } from './rp-express-app.js';
import { createKoaRpApp } from './rp-koa-app.js';
import type { Adapter, RpApp, RpOptions, TestRoute } from './rp-common.js';

export { ADAPTERS, RP_BASE_URL, localPath } from './rp-common.js';
// Express-only suites (e.g. test/security) build the Express app directly.
export { createRpApp, EXPRESS_MAJORS } from './rp-express-app.js';
export type { ExpressMajor, ExpressRpApp } from './rp-express-app.js';
export type { Adapter, RouteView, RpApp, RpOptions, TestRoute } from './rp-common.js';

/** The RP test app for one adapter: same routes, same error handler, a store the test can look into. */
export function createRp(adapter: Adapter, options: RpOptions, routes: TestRoute[] = []): RpApp {
  if (adapter === 'koa') return createKoaRpApp(options, routes);
  return createRpApp(options, adapter === 'express4' ? 4 : 5, routes);
}

/** A supertest agent that logged in at the hostile OP (login redirect, then the callback). */
export async function loggedInAgent(rp: RpApp, op: HostileOp): Promise<request.Agent> {
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return agent;
}
