import { checkScopes, claimsDenied } from '../bearer/index.js';
import type { AuthInfo } from '../bearer/index.js';
import { claimEquals, claimIncludes, claimValues, readClaim } from '../tokens/claim-path.js';
import { OidcError } from '../errors.js';
import type { LoginContext } from '../login-context.js';
import type { OidcUser } from '../session/user.js';

type ClaimPath = string | readonly string[];

/**
 * What a guard checks once the request is logged in, framework-free. The adapters wrap it: logged out →
 * like requireAuth(); logged in but `allows` false → `forbidden()` (403), never a login loop.
 */
export interface ClaimGuard<Req = unknown> {
  reason: string;
  /** For a request admitted with an access token: the scopes the token must carry, judged instead of `allows`. */
  scopes?: readonly string[];
  /**
   * `user`: the session's user, or the token's claims for a request admitted with an access token (then
   * `context` may be undefined: `requireBearer()` works without `oidc()`).
   */
  allows(user: OidcUser, context: LoginContext | undefined, req: Req): boolean | Promise<boolean>;
}

export function forbidden(reason: string): OidcError {
  return new OidcError('ERR_OIDC_FORBIDDEN', `Access denied: ${reason}`);
}

/**
 * A request admitted with an access token (`requireBearer()`, `requireAuth({ bearer })`) is judged on
 * the token, not the session: its scopes for requireScopes(), its claims otherwise. Throws the 403 with
 * a Bearer challenge.
 */
export async function judgeToken<Req>(check: ClaimGuard<Req>, auth: AuthInfo, context: LoginContext | undefined, req: Req): Promise<void> {
  if (check.scopes) return checkScopes(auth, check.scopes);
  if (!(await check.allows(auth.claims as OidcUser, context, req))) throw claimsDenied(auth, check.reason);
}

/** A logged-in request is judged on its user: ERR_OIDC_FORBIDDEN (403) when the check fails, never a login loop. */
export async function judgeLogin<Req>(check: ClaimGuard<Req>, user: OidcUser, context: LoginContext, req: Req): Promise<void> {
  if (!(await check.allows(user, context, req))) throw forbidden(check.reason);
}

/** The claim at `path` equals `value` (deep equality for objects and arrays). */
export function claimEqualsGuard(path: ClaimPath, value: unknown): ClaimGuard {
  return { reason: `claim ${String(path)} does not have the required value`, allows: (user) => claimEquals(user, path, value) };
}

/** The claim at `path` (an array or a space-separated string) contains every one of `values`. */
export function claimIncludesGuard(path: ClaimPath, values: unknown[]): ClaimGuard {
  return { reason: `claim ${String(path)} lacks a required value`, allows: (user) => claimIncludes(user, path, values) };
}

/** Any check of the app's own over the user (and the framework's request). */
export function claimCheckGuard<Req, User extends OidcUser>(check: (user: User, req: Req) => boolean | Promise<boolean>): ClaimGuard<Req> {
  return { reason: 'the claim check failed', allows: (user, _context, req) => check(user as User, req) };
}

/** All of `scopes` were granted to the session's access token. */
export function requireScopesGuard(scopes: string[]): ClaimGuard {
  return {
    reason: `missing scope ${scopes.join(' ')}`,
    scopes,
    allows: (_user, context) => {
      const granted = new Set(claimValues(context?.current()?.scope ?? context?.requestedScope));
      return scopes.every((scope) => granted.has(scope));
    },
  };
}

/** At least one of `roles` is in the roles claim (the `oidc()` option `rolesClaim`, default `roles`). */
export function requireRolesGuard(roles: string[]): ClaimGuard {
  return {
    reason: `requires one of the roles ${roles.join(', ')}`,
    allows: (user, context) => {
      const held = new Set(claimValues(readClaim(user, context?.engine.cfg.rolesClaim ?? 'roles')));
      return roles.some((role) => held.has(role));
    },
  };
}
