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
