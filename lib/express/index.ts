import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { OidcEngine } from '../core/engine.js';
import { OidcError, PRIVATE_RESPONSE_HEADERS } from '../core/errors.js';
import type { OidcOptions } from '../core/config/options.js';
import { answerRoute, matchRoute, routeFailure } from '../core/routes.js';
import type { RouteIo } from '../core/routes.js';
import { warnAboutCookie } from '../core/session/cookie-check.js';
import type { CookieFixes } from '../core/session/cookie-check.js';
import { userAccessor } from './accessors.js';
import { failTo } from './error-headers.js';
import { readForm, toHttpRequest, writeResult } from './http-bridge.js';
import { attachOidc, installNotMountedAccessors, mountedContext } from './not-mounted.js';
import { OidcRequestContext } from './request-context.js';
import { bearerBranch } from './require-bearer.js';
import { ensureAuthenticated, markPrivate, passesAtOnce } from './require-auth.js';
import type { RequireAuthOptions } from './require-auth.js';
import { destroyStoredSession, expressSessionPort, lifetimeKey, needsAppLifetime, restoreAppLifetime } from './session-port.js';
import { staleWriteGuard } from './end-of-request-save.js';
import { expressStoreAccess, storeOfRequest } from './store-access.js';
import { createSessionsApi } from '../core/logout/user-sessions.js';
import type { SessionStoreAccess, SessionsApi } from '../core/logout/user-sessions.js';
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

function routeIo(req: Request, engine: OidcEngine): RouteIo {
  return {
    request: toHttpRequest(req),
    session: () => expressSessionPort(req, engine.cfg.sessionKey),
    readForm: () => readForm(req),
    destroySession: (id) => destroyStoredSession(req, id),
    appRequest: req,
    user: () => mountedContext(req)?.user,
  };
}

const COOKIE_FIXES: CookieFixes = {
  secure: 'set cookie.secure (and app.set("trust proxy", 1) behind a proxy)',
  sameSite: 'set cookie.sameSite = "lax"',
};

/** express-session's cookie settings, for the core's one look at them. */
function checkCookie(engine: OidcEngine, req: Request): void {
  const cookie = (req.session as unknown as { cookie?: { secure?: unknown; sameSite?: unknown; httpOnly?: unknown } }).cookie;
  if (!cookie) return;
  warnAboutCookie(engine.cfg.baseUrl, engine.cfg.logger, { secure: !!cookie.secure, sameSite: cookie.sameSite, httpOnly: cookie.httpOnly }, COOKIE_FIXES);
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
    const renderable = routeFailure(err);
    // On the response already, for error handlers (and onError pages) that ignore err.headers.
    const headers = renderable?.headers ?? PRIVATE_RESPONSE_HEADERS;
    if (!res.headersSent) for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    if (!onError || !renderable) return next(err);
    Promise.resolve(onError(renderable, req, res)).catch(next);
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
      checkCookie(engine, req);
    }
    const route = matchRoute(engine, req.url, req.method);
    if (route !== undefined) {
      answerRoute(engine, route, routeIo(req, engine))
        .then((result) => writeResult(res, result))
        .catch((err: unknown) => fail(err, req, res, next));
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
        return next(new OidcError('ERR_OIDC_NOT_MOUNTED', 'requireAuth() needs the oidc() middleware mounted first: app.use(auth) (and res.locals added to, not replaced)'));
      }
      subAppUser(req);
      if (passesAtOnce(engine, req, guardOptions)) {
        markPrivate(res);
        return next();
      }
      ensureAuthenticated(engine, req, res, guardOptions).then((pass) => {
        if (!pass) return;
        markPrivate(res);
        next();
      }, failTo(res, next));
    };
  };

  Object.defineProperty(middleware, 'sessions', { value: createSessionsApi(engine.sessions, () => store), enumerable: true });
  return middleware;
}
