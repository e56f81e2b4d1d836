import type { Context, Middleware, Next } from 'koa';
import { OidcEngine } from '../core/engine.js';
import { OidcError, PRIVATE_RESPONSE_HEADERS } from '../core/errors.js';
import type { RequireAuthOptions } from '../core/guards/require-auth.js';
import type { OidcOptions } from '../core/config/options.js';
import { answerRoute, matchRoute, routeFailure } from '../core/routes.js';
import type { RouteIo } from '../core/routes.js';
import { checkCookie } from './cookie-check.js';
import { readForm, toHttpRequest, writeResult } from './http-bridge.js';
import { koaBearerBranch } from './require-bearer.js';
import { contextOf, ensureAuthenticated, markPrivate } from './require-auth.js';
import { destroyStoredSession, KoaSessionPort } from './session-port.js';
import type { KoaSessionStore } from './session-port.js';
import { OidcState } from './state.js';
import type { OidcKoaState } from './state.js';
import { koaStoreAccess } from './store-access.js';
import { createSessionsApi } from '../core/logout/user-sessions.js';
import type { SessionStoreAccess, SessionsApi } from '../core/logout/user-sessions.js';

export * from '../core/public.js';
export type { RequireAuthOptions } from '../core/guards/require-auth.js';
export { OidcState } from './state.js';
export type { OidcKoaState } from './state.js';
export type { KoaSessionStore } from './session-port.js';
export { claimEquals, claimIncludes, claimCheck, requireScopes, requireRoles } from './guards.js';
export { requireBearer, checkScopes } from './require-bearer.js';
export { requireAuth } from './standalone-require-auth.js';
export type { BearerKoaState } from './require-bearer.js';
export { resilientStore } from './resilient-store.js';
export type { ResilientStoreOptions } from './resilient-store.js';

/** `oidc()` options for Koa: the core options with hooks receiving the Koa context as `req`. */
export interface KoaOidcOptions extends OidcOptions<Context> {
  /** Render your own page for login/callback/logout errors (access_denied...) instead of throwing. */
  onError?: (err: OidcError, ctx: Context) => unknown;
}

/** The middleware returned by `oidc()`: mount it with `app.use()`, after koa-session. */
export interface OidcMiddleware extends Middleware<OidcKoaState> {
  /** Guard: logged-in requests pass; browsers are sent to log in, other requests get 401. */
  requireAuth(options?: RequireAuthOptions): Middleware<OidcKoaState>;
  /** Any user's sessions on this app: `list({ sub, iss })`, `destroy({ sub, iss, id? })`. */
  readonly sessions: SessionsApi;
}

function attachState(engine: OidcEngine, ctx: Context, port: KoaSessionPort): void {
  const state = new OidcState(engine, ctx, port);
  ctx.state.oidc = state;
  // A plain data property, like Express's req.user: an accessor per request costs every later property access.
  ctx.state.user = state.user;
}

function routeIo(ctx: Context, session: KoaSessionPort): RouteIo {
  return {
    request: toHttpRequest(ctx),
    session: () => session,
    readForm: () => readForm(ctx),
    destroySession: (id) => destroyStoredSession(ctx, id),
    appRequest: ctx,
    user: () => (ctx.state.oidc as OidcState | undefined)?.user,
  };
}

/**
 * OpenID Connect login for Koa: answers GET /login, GET+POST /callback, GET+POST /logout (and POST
 * /backchannel-logout when enabled), sets `ctx.state.oidc` and `ctx.state.user` on every request, and
 * offers `requireAuth()`. Errors are thrown as OidcError, with the `status` and `expose` Koa reads.
 */
export function oidc(options: KoaOidcOptions): OidcMiddleware {
  const engine = new OidcEngine(options as OidcOptions);
  const onError = options.onError;
  let cookieChecked = false;
  // The sessions API reaches other sessions through koa-session's `store`, learnt from the first request
  // (a per-request ContextStore cannot be used outside a request).
  let store: SessionStoreAccess | undefined;

  const middleware = (async (ctx: Context, next: Next): Promise<void> => {
    // Refuses a missing or cookie-only koa-session on the first request, before anything is stored.
    const session = new KoaSessionPort(ctx, engine.cfg.sessionKey);
    attachState(engine, ctx, session);
    session.noteLoaded();
    if (!store) {
      const options = (ctx as unknown as { sessionOptions?: { store?: KoaSessionStore; maxAge?: number | 'session' } }).sessionOptions;
      if (options?.store) store = koaStoreAccess(options.store, engine.cfg.sessionKey, options.maxAge);
    }
    if (!cookieChecked) {
      cookieChecked = true;
      checkCookie(engine, ctx);
    }
    try {
      const route = matchRoute(engine, ctx.url, ctx.method);
      if (route !== undefined) {
        try {
          writeResult(ctx, await answerRoute(engine, route, routeIo(ctx, session)));
        } catch (err) {
          const renderable = routeFailure(err);
          // On ctx already, for a try/catch error middleware (or an onError page) that ignores err.headers.
          ctx.set({ ...(renderable?.headers ?? PRIVATE_RESPONSE_HEADERS) });
          if (!onError || !renderable) throw err;
          await onError(renderable, ctx);
        }
        return;
      }
      const silent = engine.cfg.attemptSilentLogin ? await engine.silentLogin(toHttpRequest(ctx), session) : undefined;
      if (silent) return writeResult(ctx, silent);
      await next();
    } finally {
      await session.settle();
    }
  }) as OidcMiddleware;

  middleware.requireAuth = (guardOptions: RequireAuthOptions = {}): Middleware<OidcKoaState> => {
    const bearer = koaBearerBranch(engine, guardOptions.bearer);
    return async (ctx, next) => {
      // A request that carries an access token is judged on it alone (a bad token never falls back to the session).
      if (bearer && (await bearer(ctx, next))) return;
      contextOf(ctx);
      if (!(await ensureAuthenticated(engine, ctx, guardOptions))) return;
      markPrivate(ctx);
      await next();
    };
  };

  Object.defineProperty(middleware, 'sessions', { value: createSessionsApi(engine.sessions, () => store), enumerable: true });
  return middleware;
}
