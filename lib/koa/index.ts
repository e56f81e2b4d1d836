import type { Context, Middleware, Next } from 'koa';
import { OidcEngine } from '../core/engine.js';
import type { RouteName } from '../core/engine.js';
import { OidcError } from '../core/errors.js';
import { guardRequest, passesAsIs } from '../core/guard.js';
import { rawQuery } from '../core/http.js';
import type { OidcOptions } from '../core/options.js';
import { ROUTE_METHODS } from '../core/routes.js';
import { readForm, toHttpRequest, writeResult } from './http-bridge.js';
import { destroyStoredSession, KoaSessionPort } from './session-port.js';
import { OidcState } from './state.js';
import type { OidcKoaState } from './state.js';

export type { OidcOptions, ProviderOptions, RouteOptions, Logger, Clock, ClientAuthMethod } from '../core/options.js';
export { OidcError, isOidcError } from '../core/errors.js';
export type { OidcErrorCode } from '../core/errors.js';
export type { OidcUser } from '../core/user.js';
export type { OidcSessionData, AuthenticatedSession } from '../core/session-data.js';
export { OidcState } from './state.js';
export type { OidcKoaState } from './state.js';
export type { KoaSessionStore } from './session-port.js';

export interface RequireAuthOptions {
  /** Refresh an expired access token before the handler runs. Default: the `oidc()` option `autoRefresh`. */
  autoRefresh?: boolean;
}

/** The middleware returned by `oidc()`: mount it with `app.use()`, after koa-session. */
export interface OidcMiddleware extends Middleware<OidcKoaState> {
  /** Guard: logged-in requests pass; browsers are sent to log in, other requests get 401. */
  requireAuth(options?: RequireAuthOptions): Middleware<OidcKoaState>;
}

function attachState(engine: OidcEngine, ctx: Context, port: KoaSessionPort): void {
  const state = new OidcState(engine, ctx, port);
  ctx.state.oidc = state;
  Object.defineProperty(ctx.state, 'user', {
    configurable: true,
    enumerable: true,
    get: () => state.user,
    set(value: unknown) {
      Object.defineProperty(ctx.state, 'user', { configurable: true, enumerable: true, writable: true, value });
    },
  });
}

async function handleRoute(engine: OidcEngine, route: RouteName, ctx: Context, session: KoaSessionPort): Promise<void> {
  const request = toHttpRequest(ctx);
  switch (route) {
    case 'backchannelLogout': {
      const body = ctx.method === 'POST' ? await readForm(ctx).catch(() => '') : '';
      return writeResult(ctx, await engine.backchannelLogout(request, body, (id) => destroyStoredSession(ctx, id)));
    }
    case 'login':
      return writeResult(ctx, await engine.login(request, session));
    case 'callback': {
      const params = ctx.method === 'POST' ? await readForm(ctx) : rawQuery(ctx.url);
      return writeResult(ctx, await engine.callback(request, session, params));
    }
    case 'logout':
      return writeResult(ctx, await engine.logout(request, session));
  }
}

/**
 * OpenID Connect login for Koa: answers GET /login, GET+POST /callback, GET+POST /logout (and POST
 * /backchannel-logout when enabled), sets `ctx.state.oidc` and `ctx.state.user` on every request, and
 * offers `requireAuth()`. Errors are thrown as OidcError, with the `status` and `expose` Koa reads.
 */
export function oidc(options: OidcOptions): OidcMiddleware {
  const engine = new OidcEngine(options);

  const middleware = (async (ctx: Context, next: Next): Promise<void> => {
    // Refuses a missing or cookie-only koa-session on the first request, before anything is stored.
    const session = new KoaSessionPort(ctx, engine.cfg.sessionKey);
    attachState(engine, ctx, session);
    try {
      const route = engine.route(ctx.url);
      if (route === undefined || !ROUTE_METHODS[route].has(ctx.method)) await next();
      else await handleRoute(engine, route, ctx, session);
    } finally {
      await session.settle();
    }
  }) as OidcMiddleware;

  middleware.requireAuth = (guardOptions: RequireAuthOptions = {}): Middleware<OidcKoaState> => {
    const autoRefresh = guardOptions.autoRefresh ?? engine.cfg.autoRefresh;
    return async (ctx, next) => {
      const context = ctx.state.oidc;
      if (!context) {
        throw new OidcError('ERR_OIDC_NOT_MOUNTED', 'requireAuth() needs the oidc() middleware mounted first: app.use(auth)');
      }
      if (!passesAsIs(engine, context, autoRefresh)) {
        const answer = await guardRequest(engine, context, toHttpRequest(ctx), autoRefresh);
        if (answer) return writeResult(ctx, answer);
      }
      await next();
    };
  };

  return middleware;
}
