import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import type { CreateSessionOptions } from 'koa-session';
import { oidc } from '../../lib/koa/index.js';
import type { KoaSessionStore, OidcKoaState, OidcMiddleware, OidcOptions } from '../../lib/koa/index.js';
import { MemoryKoaStore } from './koa-memory-store.js';
import { RP_BASE_URL } from './rp-common.js';
import type { RpApp, RpOptions, TestRoute } from './rp-common.js';

export interface KoaRpApp extends RpApp {
  koa: Koa<OidcKoaState>;
  auth: OidcMiddleware;
  store: MemoryKoaStore;
}

export interface KoaRpSetup {
  /** koa-session options on top of `{ key: 'sid', store }` (`store: undefined` for a cookie-only session). */
  session?: Partial<CreateSessionOptions> & { store?: KoaSessionStore | undefined };
  /** Middleware mounted between koa-session and oidc() (a body parser, for instance). */
  before?: Koa.Middleware[];
}

/**
 * The Koa twin of the Express test app, written as a user would: koa-session with an external store,
 * `app.use(auth)`, @koa/router routes (a public page, a guarded page, guarded JSON routes), and an
 * error-handling middleware that answers `{ error: code }` with `err.status`.
 */
export function createKoaRpApp(options: RpOptions, routes: TestRoute[] = [], setup: KoaRpSetup = {}): KoaRpApp {
  const app = new Koa<OidcKoaState>();
  app.keys = ['test-secret'];
  const store = new MemoryKoaStore();
  const errors: RpApp['errors'] = [];
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const err = caught as { code?: string; status?: number; expose?: boolean; message: string };
      errors.push({ code: err.code, status: err.status, message: err.message });
      ctx.status = err.status ?? 500;
      ctx.body = { error: err.code ?? 'internal', message: err.expose ? err.message : 'error' };
    }
  });
  app.use(session({ key: 'sid', store, ...setup.session } as CreateSessionOptions, app));
  for (const middleware of setup.before ?? []) app.use(middleware);
  const auth = oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, ...options } as OidcOptions);
  app.use(auth);

  const router = new Router<OidcKoaState>();
  router.get('/', (ctx) => {
    ctx.body = { user: ctx.state.user ?? null };
  });
  router.get('/profile', auth.requireAuth(), (ctx) => {
    ctx.body = ctx.state.user;
  });
  router.get('/api/me', auth.requireAuth(), (ctx) => {
    ctx.body = { user: ctx.state.user, expiresAt: ctx.state.oidc?.expiresAt };
  });
  router.post('/api/things', auth.requireAuth(), (ctx) => {
    ctx.body = { ok: true };
  });
  for (const route of routes) {
    const guards = route.guard ? [auth.requireAuth(route.guard)] : [];
    router[route.method](route.path, ...guards, async (ctx) => {
      ctx.body = await route.handler({ user: ctx.state.user, oidc: ctx.state.oidc, query: ctx.query });
    });
  }
  app.use(router.routes());
  app.use(router.allowedMethods());

  return { adapter: 'koa', app: app.callback(), koa: app, auth, store, sessions: async () => store.all(), errors };
}
