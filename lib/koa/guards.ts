import type { Context, Middleware } from 'koa';
import { claimCheckGuard, claimEqualsGuard, claimIncludesGuard, judgeLogin, judgeToken, requireRolesGuard, requireScopesGuard } from '../core/guards/claim-guards.js';
import type { ClaimGuard } from '../core/guards/claim-guards.js';
import { isAuthInfo } from '../core/bearer/index.js';
import type { OidcUser } from '../core/session/user.js';
import { rethrowWithHeaders } from './error-headers.js';
import { contextOf, ensureAuthenticated, markPrivate } from './require-auth.js';
import { OidcState } from './state.js';
import type { OidcKoaState } from './state.js';

type ClaimPath = string | readonly string[];

/**
 * A guard that implies requireAuth(): logged out → login for browsers / 401 for APIs; logged in but the
 * check fails → 403 ERR_OIDC_FORBIDDEN thrown, never a login loop. A request admitted with an access token
 * (`requireBearer()`, `requireAuth({ bearer })`) is judged on the token: its scopes or its claims, with a
 * Bearer challenge on failure.
 */
function guard(check: ClaimGuard<Context>): Middleware<OidcKoaState> {
  return async (ctx, next) => {
    const auth: unknown = (ctx.state as { auth?: unknown }).auth;
    if (isAuthInfo(auth)) {
      const oidcState: unknown = ctx.state.oidc;
      try {
        await judgeToken(check, auth, oidcState instanceof OidcState ? oidcState : undefined, ctx);
      } catch (err) {
        rethrowWithHeaders(ctx, err);
      }
      await next();
      return;
    }
    const context = contextOf(ctx);
    if (!(await ensureAuthenticated(context.engine, ctx, {}))) return;
    await judgeLogin(check, ctx.state.user as OidcUser, context, ctx);
    markPrivate(ctx);
    await next();
  };
}

/** The claim at `path` equals `value` (deep equality for objects and arrays). */
export function claimEquals(path: ClaimPath, value: unknown): Middleware<OidcKoaState> {
  return guard(claimEqualsGuard(path, value));
}

/** The claim at `path` (an array or a space-separated string) contains every one of `values`. */
export function claimIncludes(path: ClaimPath, ...values: unknown[]): Middleware<OidcKoaState> {
  return guard(claimIncludesGuard(path, values));
}

/** Any check of your own over the user (and the Koa context). */
export function claimCheck<User extends OidcUser = OidcUser>(check: (user: User, ctx: Context) => boolean | Promise<boolean>): Middleware<OidcKoaState> {
  return guard(claimCheckGuard(check));
}

/** All of `scopes` were granted to the session's access token. */
export function requireScopes(...scopes: string[]): Middleware<OidcKoaState> {
  return guard(requireScopesGuard(scopes));
}

/** At least one of `roles` is in the roles claim (the `oidc()` option `rolesClaim`, default `roles`). */
export function requireRoles(...roles: string[]): Middleware<OidcKoaState> {
  return guard(requireRolesGuard(roles));
}
