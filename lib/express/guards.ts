import type { Request, RequestHandler } from 'express';
import { isAuthInfo } from '../core/bearer/index.js';
import { claimCheckGuard, claimEqualsGuard, claimIncludesGuard, judgeLogin, judgeToken, requireRolesGuard, requireScopesGuard } from '../core/guards/claim-guards.js';
import type { ClaimGuard } from '../core/guards/claim-guards.js';
import { failTo, failWith } from './error-headers.js';
import { mountedContext } from './not-mounted.js';
import './types.js';
import { contextOf, ensureAuthenticated, markPrivate, passesAtOnce } from './require-auth.js';

type ClaimPath = string | readonly string[];
type Predicate = (user: Express.User, req: Request) => boolean | Promise<boolean>;

/**
 * A guard that implies requireAuth(): logged out → login for browsers / 401 for APIs; logged in but the
 * check fails → 403 ERR_OIDC_FORBIDDEN through next(err), never a login loop.
 */
function guard(check: ClaimGuard<Request>): RequestHandler {
  return (req, res, next) => {
    // Admitted with an access token (requireBearer / requireAuth({ bearer })): judge the token, not the session.
    const auth = req.auth;
    if (isAuthInfo(auth)) {
      judgeToken(check, auth, mountedContext(req), req).then(() => next(), failTo(res, next));
      return;
    }
    let context;
    try {
      context = contextOf(req);
    } catch (err) {
      return failWith(res, next, err);
    }
    const engine = context.engine;
    const authenticated = passesAtOnce(engine, req, {}) ? Promise.resolve(true) : ensureAuthenticated(engine, req, res, {});
    authenticated
      .then(async (ok) => {
        if (!ok) return;
        await judgeLogin(check, req.user as Express.User, context, req);
        markPrivate(res);
        next();
      })
      .catch(failTo(res, next));
  };
}

/** The claim at `path` equals `value` (deep equality for objects and arrays). */
export function claimEquals(path: ClaimPath, value: unknown): RequestHandler {
  return guard(claimEqualsGuard(path, value));
}

/** The claim at `path` (an array or a space-separated string) contains every one of `values`. */
export function claimIncludes(path: ClaimPath, ...values: unknown[]): RequestHandler {
  return guard(claimIncludesGuard(path, values));
}

/** Any check of your own over the user (and the request). */
export function claimCheck(check: Predicate): RequestHandler {
  return guard(claimCheckGuard(check));
}

/** All of `scopes` were granted to the session's access token. */
export function requireScopes(...scopes: string[]): RequestHandler {
  return guard(requireScopesGuard(scopes));
}

/** At least one of `roles` is in the roles claim (the `oidc()` option `rolesClaim`, default `roles`). */
export function requireRoles(...roles: string[]): RequestHandler {
  return guard(requireRolesGuard(roles));
}
