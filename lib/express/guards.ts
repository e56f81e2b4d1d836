import type { Request, RequestHandler } from 'express';
import { claimEquals as equals, claimIncludes as includes, claimValues, readClaim } from '../core/claim-path.js';
import { OidcError } from '../core/errors.js';
import { bearerGuard } from './require-bearer.js';
import { contextOf, ensureAuthenticated, passesFast, privateNext } from './require-auth.js';

type ClaimPath = string | readonly string[];
type Predicate = (user: Express.User, req: Request) => boolean | Promise<boolean>;

function forbidden(reason: string): OidcError {
  return new OidcError('ERR_OIDC_FORBIDDEN', `Access denied: ${reason}`);
}

/**
 * A guard that implies requireAuth(): logged out → login for browsers / 401 for APIs; logged in but the
 * predicate fails → 403 ERR_OIDC_FORBIDDEN through next(err), never a login loop.
 */
function guard(reason: string, predicate: Predicate, scopes?: readonly string[]): RequestHandler {
  return (req, res, next) => {
    // Admitted with an access token (requireBearer / requireAuth({ bearer })): judge the token, not the session.
    if (bearerGuard(req, next, reason, predicate, scopes)) return;
    let context;
    try {
      context = contextOf(req);
    } catch (err) {
      return next(err);
    }
    const engine = context.engine;
    const authenticated = passesFast(engine, req, {}) ? Promise.resolve(true) : ensureAuthenticated(engine, req, res, {});
    authenticated
      .then(async (ok) => {
        if (!ok) return;
        const user = req.user as Express.User;
        if (await predicate(user, req)) return privateNext(res, next);
        next(forbidden(reason));
      })
      .catch(next);
  };
}

/** The claim at `path` equals `value` (deep equality for objects and arrays). */
export function claimEquals(path: ClaimPath, value: unknown): RequestHandler {
  return guard(`claim ${String(path)} does not have the required value`, (user) => equals(user, path, value));
}

/** The claim at `path` (an array or a space-separated string) contains every one of `values`. */
export function claimIncludes(path: ClaimPath, ...values: unknown[]): RequestHandler {
  return guard(`claim ${String(path)} lacks a required value`, (user) => includes(user, path, values));
}

/** Any check of your own over the user (and the request). */
export function claimCheck(check: Predicate): RequestHandler {
  return guard('the claim check failed', check);
}

/** All of `scopes` were granted to the session's access token. */
export function requireScopes(...scopes: string[]): RequestHandler {
  return guard(`missing scope ${scopes.join(' ')}`, (_user, req) => {
    const context = contextOf(req);
    const granted = new Set(claimValues(context.current()?.scope ?? context.requestedScope));
    return scopes.every((scope) => granted.has(scope));
  }, scopes);
}

/** At least one of `roles` is in the roles claim (the `oidc()` option `rolesClaim`, default `roles`). */
export function requireRoles(...roles: string[]): RequestHandler {
  return guard(`requires one of the roles ${roles.join(', ')}`, (user, req) => {
    const held = new Set(claimValues(readClaim(user, req.oidc ? contextOf(req).engine.cfg.rolesClaim : 'roles')));
    return roles.some((role) => held.has(role));
  });
}
