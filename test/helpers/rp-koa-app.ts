import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import type { CreateSessionOptions } from 'koa-session';
import { claimCheck, claimEquals, claimIncludes, oidc, requireRoles, requireScopes } from '../../lib/koa/index.js';
import type { BearerKoaState, KoaOidcOptions, KoaSessionStore, OidcKoaState, OidcMiddleware } from '../../lib/koa/index.js';
import { MemoryKoaStore } from './koa-memory-store.js';
import { QUIET_LOGGER, RP_BASE_URL } from './rp-common.js';
import type { GuardKit, RpApp, RpOptions, TestRoute } from './rp-common.js';

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

function guardKit(auth: OidcMiddleware): GuardKit {
  return {
    requireAuth: (options) => auth.requireAuth(options),
    requireRoles,
    requireScopes,
    claimEquals,
    claimIncludes,
    claimCheck: (check) => claimCheck(check),
  };
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
      const err = caught as { code?: string; status?: number; expose?: boolean; message: string; headers?: Record<string, string> };
      errors.push({ code: err.code, status: err.status, message: err.message });
      if (err.headers) ctx.set(err.headers);
      ctx.status = err.status ?? 500;
      ctx.body = { error: err.code ?? 'internal', message: err.expose ? err.message : 'error' };
    }
  });
  app.use(session({ key: 'sid', store, ...setup.session } as CreateSessionOptions, app));
  for (const middleware of setup.before ?? []) app.use(middleware);
  const auth = oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, logger: QUIET_LOGGER, ...options } as KoaOidcOptions);
  app.use(auth);

  const router = new Router<OidcKoaState & BearerKoaState>();
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
    const guard = route.guard === undefined ? [] : typeof route.guard === 'function' ? route.guard(guardKit(auth)) : auth.requireAuth(route.guard);
    const guards = ([] as unknown[]).concat(guard).map((g) => g as Koa.Middleware<OidcKoaState & BearerKoaState>);
    router[route.method](route.path, ...guards, async (ctx) => {
      let answered = false;
      let status = 200;
      const body = await route.handler({
        user: ctx.state.user,
        oidc: ctx.state.oidc,
        auth: ctx.state.auth,
        query: ctx.query,
        session: ctx.session as Record<string, unknown>,
        login: async (options = {}) => {
          answered = true;
          await ctx.state.oidc?.login(options);
        },
        logout: async (options = {}) => {
          answered = true;
          await ctx.state.oidc?.logout(options);
        },
        status: (code) => {
          status = code;
        },
      });
      if (answered) return;
      ctx.status = status;
      ctx.body = body;
    });
  }
  app.use(router.routes());
  app.use(router.allowedMethods());

  return { adapter: 'koa', app: app.callback(), koa: app, auth, store, sessions: async () => store.all(), errors };
}
