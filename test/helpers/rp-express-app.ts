import express5 from 'express';
import express4 from 'express4';
import session from 'express-session';
import type { ErrorRequestHandler, Express, RequestHandler } from 'express';
import { claimCheck, claimEquals, claimIncludes, oidc, requireRoles, requireScopes } from '../../lib/express/index.js';
import type { ExpressOidcOptions, OidcMiddleware } from '../../lib/express/index.js';
import { QUIET_LOGGER, RP_BASE_URL } from './rp-common.js';
import type { GuardKit, RouteView, RpApp, RpOptions, TestRoute } from './rp-common.js';

export type ExpressMajor = 4 | 5;
export const EXPRESS_MAJORS: ExpressMajor[] = [5, 4];

export interface ExpressRpApp extends RpApp {
  express: Express;
  auth: OidcMiddleware;
  store: session.MemoryStore;
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

function mountRoutes(app: Express, auth: OidcMiddleware, routes: TestRoute[]): void {
  for (const route of routes) {
    const handler: RequestHandler = (req, res, next) => {
      let answered = false;
      const view: RouteView = {
        user: req.user,
        oidc: req.oidc,
        auth: req.auth,
        query: req.query as Record<string, unknown>,
        session: req.session as unknown as Record<string, unknown>,
        login: async (options = {}) => {
          answered = true;
          await res.oidc?.login(options);
        },
        logout: async (options = {}) => {
          answered = true;
          await res.oidc?.logout(options);
        },
        status: (code) => {
          res.status(code);
        },
      };
      Promise.resolve()
        .then(() => route.handler(view))
        .then((body) => (answered ? undefined : res.json(body)), next);
    };
    const guard = route.guard === undefined ? [] : typeof route.guard === 'function' ? route.guard(guardKit(auth)) : auth.requireAuth(route.guard);
    app[route.method](route.path, ...([] as unknown[]).concat(guard).map((g) => g as RequestHandler), handler);
  }
}

/**
 * An Express app as a user would write it: express-session, `app.use(auth)`, a public page, a guarded
 * page and a guarded JSON route, and an error handler that shows the stable code.
 */
export function createRpApp(
  options: RpOptions,
  major: ExpressMajor = 5,
  extra?: ((app: Express, auth: OidcMiddleware) => void) | TestRoute[],
): ExpressRpApp {
  const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
  const app = express();
  const store = new session.MemoryStore();
  app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, store, name: 'sid' }));
  const auth = oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, logger: QUIET_LOGGER, ...options } as ExpressOidcOptions);
  app.use(auth);
  app.get('/', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  app.get('/profile', auth.requireAuth(), (req, res) => {
    res.json(req.user);
  });
  app.get('/api/me', auth.requireAuth(), (req, res) => {
    res.json({ user: req.user, expiresAt: req.oidc?.expiresAt });
  });
  app.post('/api/things', auth.requireAuth(), (_req, res) => {
    res.json({ ok: true });
  });
  if (typeof extra === 'function') extra(app, auth);
  else if (extra) mountRoutes(app, auth, extra);
  const errors: RpApp['errors'] = [];
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    errors.push({ code: err.code, status: err.status, message: err.message });
    if (err.headers) res.set(err.headers);
    res.status(err.status ?? 500).json({ error: err.code ?? 'internal', message: err.expose ? err.message : 'error' });
  };
  app.use(onError);
  const sessions = () =>
    new Promise<Record<string, Record<string, unknown>>>((resolve, reject) => {
      store.all((err, all) => (err ? reject(err) : resolve((all ?? {}) as unknown as Record<string, Record<string, unknown>>)));
    });
  return { adapter: major === 4 ? 'express4' : 'express5', app: app as unknown as RpApp['app'], express: app, auth, store, sessions, errors };
}
