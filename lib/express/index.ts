import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { appLoginOverrides } from '../core/login/app-login.js';
import type { LoginOptions, LogoutOptions } from '../core/login/app-login.js';
import { OidcEngine } from '../core/engine.js';
import { OidcError, PRIVATE_RESPONSE_HEADERS } from '../core/errors.js';
import type { OidcOptions } from '../core/config/options.js';
import { answerRoute, matchRoute, routeFailure } from '../core/routes.js';
import type { RouteIo } from '../core/routes.js';
import { warnAboutCookie } from '../core/session/cookie-check.js';
import type { CookieFixes } from '../core/session/cookie-check.js';
import { readForm, toHttpRequest, writeResult } from './http-bridge.js';
import { OidcRequestContext } from './request-context.js';
import { bearerBranch } from './require-bearer.js';
import { ensureAuthenticated, markPrivate, passesAtOnce } from './require-auth.js';
import type { RequireAuthOptions } from './require-auth.js';
import { destroyStoredSession, expressSessionPort } from './session-port.js';
import { guardStaleWrites } from './stale-write-guard.js';
import './types.js';

export * from '../core/public.js';
export { OidcRequestContext } from './request-context.js';
export type { RequireAuthOptions } from './require-auth.js';
export { claimEquals, claimIncludes, claimCheck, requireScopes, requireRoles } from './guards.js';
export { requireBearer } from './require-bearer.js';
export { resilientStore } from './resilient-store.js';
export type { ResilientStoreOptions } from './resilient-store.js';

/** `oidc()` options for Express: the core options with hooks typed for Express requests. */
export interface ExpressOidcOptions extends OidcOptions<Request> {
  /** Render your own page for login/callback/logout errors (access_denied...) instead of next(err). */
  onError?: (err: OidcError, req: Request, res: Response) => unknown;
}

/** The middleware returned by `oidc()`: mount it with `app.use()`. */
export interface OidcMiddleware extends RequestHandler {
  /** Guard: logged-in requests pass; browsers are sent to log in, other requests get 401. */
  requireAuth(options?: RequireAuthOptions): RequestHandler;
}


declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Response {
      /** Set by the `oidc()` middleware. */
      oidc?: {
        login(options?: LoginOptions): Promise<void>;
        /** What the logout route does, from your own route: e.g. one button for local and one for IdP logout. */
        logout(options?: LogoutOptions): Promise<void>;
      };
    }
  }
}

/** `res.oidc`: start a login or a logout from any route. A class, so a request costs one small object. */
class ResponseActions {
  private readonly engine: OidcEngine;
  private readonly req: Request;
  private readonly res: Response;

  constructor(engine: OidcEngine, req: Request, res: Response) {
    this.engine = engine;
    this.req = req;
    this.res = res;
  }

  async login(options: LoginOptions = {}): Promise<void> {
    const overrides = appLoginOverrides(options, 'res.oidc.login()');
    const result = await this.engine.login(toHttpRequest(this.req), expressSessionPort(this.req, this.engine.cfg.sessionKey), overrides);
    writeResult(this.res, result);
  }

  async logout(options: LogoutOptions = {}): Promise<void> {
    const session = expressSessionPort(this.req, this.engine.cfg.sessionKey);
    const user = this.req.oidc?.user as Record<string, unknown> | undefined;
    writeResult(this.res, await this.engine.logout(toHttpRequest(this.req), session, this.req, user, options));
  }
}

const USER_PROPERTY: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request): unknown {
    return this.oidc?.user;
  },
  set(this: Request, value: unknown): void {
    // Another middleware (passport, a test) assigning req.user gets an ordinary property of its own.
    Object.defineProperty(this, 'user', { configurable: true, enumerable: true, writable: true, value });
  },
};

function attachContext(engine: OidcEngine, req: Request, res: Response): void {
  req.oidc = new OidcRequestContext(engine, req);
  // A lazy accessor built from two shared functions: every request object takes the same hidden-class
  // transition. (A getter closure per request gave each request its own hidden class and slowed every
  // later property access in Express: bench/, BENCHMARKS.md.)
  Object.defineProperty(req, 'user', USER_PROPERTY);
  res.oidc = new ResponseActions(engine, req, res);
}

function routeIo(req: Request, engine: OidcEngine): RouteIo {
  return {
    request: toHttpRequest(req),
    session: () => expressSessionPort(req, engine.cfg.sessionKey),
    readForm: () => readForm(req),
    destroySession: (id) => destroyStoredSession(req, id),
    appRequest: req,
    user: () => req.oidc?.user as Record<string, unknown> | undefined,
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
  const onError = options.onError;
  const fail = (err: unknown, req: Request, res: Response, next: NextFunction): void => {
    const renderable = routeFailure(err);
    if (!res.headersSent) for (const [name, value] of Object.entries(PRIVATE_RESPONSE_HEADERS)) res.setHeader(name, value);
    if (!onError || !renderable) return next(err);
    Promise.resolve(onError(renderable, req, res)).catch(next);
  };

  let cookieChecked = false;
  const middleware = ((req: Request, res: Response, next: NextFunction): void => {
    attachContext(engine, req, res);
    guardStaleWrites(req, engine.cfg.sessionKey);
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
      .then((result) => (result ? writeResult(res, result) : next()), next);
  }) as OidcMiddleware;

  middleware.requireAuth = (guardOptions: RequireAuthOptions = {}): RequestHandler => {
    const bearer = bearerBranch(engine, guardOptions.bearer);
    return (req, res, next) => {
      if (bearer?.(req, res, next)) return;
      if (!req.oidc) {
        return next(new OidcError('ERR_OIDC_NOT_MOUNTED', 'requireAuth() needs the oidc() middleware mounted first: app.use(auth)'));
      }
      if (passesAtOnce(engine, req, guardOptions)) {
        markPrivate(res);
        return next();
      }
      ensureAuthenticated(engine, req, res, guardOptions).then((pass) => {
        if (!pass) return;
        markPrivate(res);
        next();
      }, next);
    };
  };

  return middleware;
}
