import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OidcEngine } from '../core/engine.js';
import type { RouteName } from '../core/engine.js';
import { OidcError } from '../core/errors.js';
import { rawQuery } from '../core/http.js';
import type { OidcOptions } from '../core/options.js';
import { readForm, toHttpRequest, writeResult } from './http-bridge.js';
import { OidcRequestContext } from './request-context.js';
import { destroyStoredSession, expressSessionPort } from './session-port.js';
import './types.js';

export type { OidcOptions, ProviderOptions, RouteOptions, Logger, Clock, ClientAuthMethod } from '../core/options.js';
export { OidcError, isOidcError } from '../core/errors.js';
export type { OidcErrorCode } from '../core/errors.js';
export type { OidcUser } from '../core/user.js';
export type { OidcSessionData, AuthenticatedSession } from '../core/session-data.js';
export { OidcRequestContext } from './request-context.js';
export { resilientStore, type ResilientStoreOptions } from './resilient-store.js';

export interface RequireAuthOptions {
  /** Refresh an expired access token before the handler runs. Default: the `oidc()` option `autoRefresh`. */
  autoRefresh?: boolean;
}

/** The middleware returned by `oidc()`: mount it with `app.use()`. */
export interface OidcMiddleware extends RequestHandler {
  /** Guard: logged-in requests pass; browsers are sent to log in, other requests get 401. */
  requireAuth(options?: RequireAuthOptions): RequestHandler;
}

const ROUTE_METHODS: Record<RouteName, ReadonlySet<string>> = {
  login: new Set(['GET', 'HEAD']),
  callback: new Set(['GET', 'POST']),
  logout: new Set(['GET', 'POST']),
  backchannelLogout: new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']),
};

function attachContext(engine: OidcEngine, req: Request): void {
  const context = new OidcRequestContext(engine, req);
  req.oidc = context;
  Object.defineProperty(req, 'user', {
    configurable: true,
    enumerable: true,
    get: () => context.user,
    set(value: unknown) {
      Object.defineProperty(req, 'user', { configurable: true, enumerable: true, writable: true, value });
    },
  });
}

async function handleRoute(engine: OidcEngine, route: RouteName, req: Request, res: Response): Promise<void> {
  const request = toHttpRequest(req);
  if (route === 'backchannelLogout') {
    const body = req.method === 'POST' ? await readForm(req).catch(() => '') : '';
    return writeResult(res, await engine.backchannelLogout(request, body, (id) => destroyStoredSession(req, id)));
  }
  const session = expressSessionPort(req, engine.cfg.sessionKey);
  switch (route) {
    case 'login':
      return writeResult(res, await engine.login(request, session));
    case 'callback': {
      const params = req.method === 'POST' ? await readForm(req) : rawQuery(req.url);
      return writeResult(res, await engine.callback(request, session, params));
    }
    case 'logout':
      return writeResult(res, await engine.logout(request, session));
  }
}

/** Refresh-then-pass, or the anonymous answer (login for browsers, 401 for the rest). */
async function guardSlowPath(engine: OidcEngine, req: Request, res: Response, autoRefresh: boolean): Promise<boolean> {
  const context = req.oidc as OidcRequestContext;
  const session = expressSessionPort(req, engine.cfg.sessionKey);
  const auth = context.current();
  if (auth) {
    try {
      context.adopt(await engine.guard(session, auth, autoRefresh));
      return true;
    } catch (err) {
      if (!(err instanceof OidcError && err.code === 'ERR_OIDC_REFRESH_FAILED')) throw err;
    }
  }
  writeResult(res, await engine.unauthenticated(toHttpRequest(req), session));
  return false;
}

/**
 * OpenID Connect login for Express: mounts GET /login, GET+POST /callback, GET+POST /logout, sets
 * `req.oidc` and `req.user` on every request, and offers `requireAuth()`.
 */
export function oidc(options: OidcOptions): OidcMiddleware {
  const engine = new OidcEngine(options);

  const middleware = ((req: Request, res: Response, next: NextFunction): void => {
    attachContext(engine, req);
    const route = engine.route(req.url);
    if (route === undefined || !ROUTE_METHODS[route].has(req.method)) return next();
    handleRoute(engine, route, req, res).catch(next);
  }) as OidcMiddleware;

  middleware.requireAuth = (guardOptions: RequireAuthOptions = {}): RequestHandler => {
    const autoRefresh = guardOptions.autoRefresh ?? engine.cfg.autoRefresh;
    return (req, res, next) => {
      const context = req.oidc;
      if (!context) {
        return next(new OidcError('ERR_OIDC_NOT_MOUNTED', 'requireAuth() needs the oidc() middleware mounted first: app.use(auth)'));
      }
      const auth = context.current();
      if (auth && !(autoRefresh && auth.refreshToken && auth.expiresAt !== undefined && auth.expiresAt <= engine.cfg.clock() / 1000)) {
        return next();
      }
      guardSlowPath(engine, req, res, autoRefresh).then((pass) => (pass ? next() : undefined), next);
    };
  };

  return middleware;
}
