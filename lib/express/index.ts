import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OidcEngine } from '../core/engine.js';
import type { RouteMatch } from '../core/engine.js';
import { asRouteError, OidcError, PRIVATE_RESPONSE_HEADERS } from '../core/errors.js';
import { rawQuery } from '../core/http.js';
import type { OidcOptions } from '../core/options.js';
import { ROUTE_METHODS } from '../core/routes.js';
import { userAccessor } from './accessors.js';
import { failTo } from './error-headers.js';
import { readForm, toHttpRequest, writeResult } from './http-bridge.js';
import { attachOidc, installNotMountedAccessors, mountedContext } from './not-mounted.js';
import { OidcRequestContext } from './request-context.js';
import { bearerBranch } from './require-bearer.js';
import { ensureAuthenticated, passesFast, privateNext } from './require-auth.js';
import type { RequireAuthOptions } from './require-auth.js';
import { destroyStoredSession, expressSessionPort, lifetimeKey, needsAppLifetime, restoreAppLifetime } from './session-port.js';
import { staleWriteGuard } from './stale-write-guard.js';
import { expressStoreAccess, storeOfRequest } from './store-access.js';
import { createSessionsApi } from '../core/user-sessions.js';
import type { SessionStoreAccess, SessionsApi } from '../core/user-sessions.js';
import './types.js';

export * from '../core/public.js';
export { OidcRequestContext } from './request-context.js';
export type { RequireAuthOptions } from './require-auth.js';
export type { OidcResponseActions } from './types.js';
export { claimEquals, claimIncludes, claimCheck, requireScopes, requireRoles } from './guards.js';
export { requireBearer } from './require-bearer.js';
export { requireAuth } from './standalone-require-auth.js';
export { resilientStore } from './resilient-store.js';
export type { ResilientStoreOptions } from './resilient-store.js';

/**
 * `oidc()` options for Express: the core options with hooks typed for Express requests, and `onLogin`
 * returning an `Express.User`.
 */
export interface ExpressOidcOptions extends OidcOptions<Request, Express.User> {
  /** Render your own page for login/callback/logout errors (access_denied...) instead of next(err). */
  onError?: (err: OidcError, req: Request, res: Response) => unknown;
}

/** The middleware returned by `oidc()`: mount it with `app.use()`. */
export interface OidcMiddleware extends RequestHandler {
  /** Guard: logged-in requests pass; browsers are sent to log in, other requests get 401. */
  requireAuth(options?: RequireAuthOptions): RequestHandler;
  /** Any user's sessions on this app: `list({ sub, iss })`, `destroy({ sub, iss, id? })`. */
  readonly sessions: SessionsApi;
}

async function handleRoute(engine: OidcEngine, route: RouteMatch, req: Request, res: Response): Promise<void> {
  const request = toHttpRequest(req);
  if (route.name === 'backchannelLogout') {
    const body = req.method === 'POST' ? await readForm(req).catch(() => '') : '';
    return writeResult(res, await engine.backchannelLogout(request, body, (id) => destroyStoredSession(req, id), route.provider));
  }
  const session = expressSessionPort(req, engine.cfg.sessionKey);
  switch (route.name) {
    case 'login':
      return writeResult(res, await engine.login(request, session));
    case 'callback': {
      const params = req.method === 'POST' ? await readForm(req) : rawQuery(req.url);
      return writeResult(res, await engine.callback(request, session, params, route.provider, req));
    }
    case 'logout':
      return writeResult(res, await engine.logout(request, session, req, req.oidc.user));
  }
}

/** One look at the session cookie settings, so an insecure production setup is noticed. */
function warnAboutCookie(engine: OidcEngine, req: Request): void {
  const cookie = (req.session as unknown as { cookie?: { secure?: unknown; sameSite?: unknown; httpOnly?: unknown } }).cookie;
  if (!cookie) return;
  if (engine.cfg.baseUrl.protocol === 'https:' && !cookie.secure) {
    engine.cfg.logger.warn('oidc-session: the session cookie is not Secure although baseUrl is https; set cookie.secure (and app.set("trust proxy", 1) behind a proxy)');
  }
  if (cookie.sameSite === undefined || cookie.sameSite === false) {
    engine.cfg.logger.warn('oidc-session: the session cookie has no SameSite attribute; set cookie.sameSite = "lax"');
  }
  if (cookie.httpOnly === false) engine.cfg.logger.warn('oidc-session: the session cookie is readable by scripts (httpOnly false)');
}

/**
 * OpenID Connect login for Express: mounts GET /login, GET+POST /callback, GET+POST /logout, sets
 * `req.oidc` and `req.user` on every request, and offers `requireAuth()`.
 */
export function oidc(options: ExpressOidcOptions): OidcMiddleware {
  const engine = new OidcEngine(options as OidcOptions);
  const viaAccessor = installNotMountedAccessors();
  const onError = options.onError;
  const fail = (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    asRouteError(err);
    // On the response already, for error handlers (and onError pages) that ignore err.headers.
    const headers = err instanceof OidcError && err.headers ? err.headers : PRIVATE_RESPONSE_HEADERS;
    if (!res.headersSent) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (!onError || !(err instanceof OidcError)) return next(err);
    Promise.resolve(onError(err, req, res)).catch(next);
  };

  let cookieChecked = false;
  const shortLived = lifetimeKey(engine.cfg.sessionKey);
  // The sessions API reaches other sessions through express-session's store, learnt from the first request.
  let store: SessionStoreAccess | undefined;
  const attachUser = userAccessor();
  const guardStaleWrites = staleWriteGuard(engine.cfg.sessionKey);
  const handle = (req: Request, res: Response, next: NextFunction): void => {
    // One small object per request; req.oidc and res.oidc read it through Node's prototypes, req.user
    // through the app's (accessors.ts, not-mounted.ts).
    attachOidc(req, res, new OidcRequestContext(engine, req), viaAccessor);
    attachUser(req);
    if (!store) {
      const found = storeOfRequest(req);
      if (found) store = expressStoreAccess(found, engine.cfg.sessionKey);
    }
    guardStaleWrites(req);
    if (!cookieChecked && req.session) {
      cookieChecked = true;
      warnAboutCookie(engine, req);
    }
    const route = engine.route(req.url);
    if (route !== undefined && ROUTE_METHODS[route.name].has(req.method)) {
      handleRoute(engine, route, req, res).catch((err: unknown) => fail(err, req, res, next));
      return;
    }
    if (!engine.cfg.attemptSilentLogin) return next();
    Promise.resolve()
      .then(() => engine.silentLogin(toHttpRequest(req), expressSessionPort(req, engine.cfg.sessionKey)))
      .then((result) => (result ? writeResult(res, result) : next()), failTo(res, next));
  };
  const middleware = ((req: Request, res: Response, next: NextFunction): void => {
    if (!needsAppLifetime(req, engine.cfg.sessionKey, shortLived)) return handle(req, res, next);
    restoreAppLifetime(req, engine.cfg.sessionKey).then(() => handle(req, res, next), next);
  }) as OidcMiddleware;

  middleware.requireAuth = (guardOptions: RequireAuthOptions = {}): RequestHandler => {
    const bearer = bearerBranch(engine, guardOptions.bearer);
    // A sub-app that Express did not mount (called as a plain handler) has a request prototype of its own.
    const subAppUser = userAccessor();
    return (req, res, next) => {
      if (bearer?.(req, res, next)) return;
      if (!mountedContext(req)) {
        return next(new OidcError('ERR_OIDC_NOT_MOUNTED', 'requireAuth() needs the oidc() middleware mounted first: app.use(auth)'));
      }
      subAppUser(req);
      if (passesFast(engine, req, guardOptions)) return privateNext(res, next);
      ensureAuthenticated(engine, req, res, guardOptions).then((pass) => (pass ? privateNext(res, next) : undefined), failTo(res, next));
    };
  };

  Object.defineProperty(middleware, 'sessions', { value: createSessionsApi(engine.sessions, () => store), enumerable: true });
  return middleware;
}
