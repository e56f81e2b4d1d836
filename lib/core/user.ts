import { decodeJwt } from 'jose';
import type { JWTPayload } from 'jose';

/** Claims that describe the token, not the user; they are left out of `req.user`. */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'aud', 'azp', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'at_hash', 'c_hash', 's_hash', 'auth_time', 'acr', 'amr', 'sid', 'typ',
]);

/** The user an app sees. Apps may declare their own claims by augmenting this interface. */
export interface OidcUser {
  sub: string;
  iss: string;
  [claim: string]: unknown;
}

function sameValue(a: unknown, b: unknown): boolean {
  return a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
}

/** Userinfo claims the ID token does not already carry with the same value (so nothing is stored twice). */
export function userinfoExtras(idTokenClaims: Record<string, unknown>, userinfo: Record<string, unknown>): Record<string, unknown> | undefined {
  const extras: Record<string, unknown> = {};
  let any = false;
  for (const [name, value] of Object.entries(userinfo)) {
    if (name === 'sub' || name === '__proto__' || PROTOCOL_CLAIMS.has(name) || sameValue(idTokenClaims[name], value)) continue;
    extras[name] = value;
    any = true;
  }
  return any ? extras : undefined;
}

/** ID token claims without protocol claims, merged with userinfo (userinfo wins; `sub`/`iss` never change). */
export function buildUser(idTokenClaims: JWTPayload, userinfo: Record<string, unknown> | undefined): OidcUser {
  const user: Record<string, unknown> = {};
  // `__proto__` as a claim name would replace the object's prototype on plain assignment.
  for (const [name, value] of Object.entries(idTokenClaims)) {
    if (!PROTOCOL_CLAIMS.has(name) && name !== '__proto__') user[name] = value;
  }
  if (userinfo) {
    for (const [name, value] of Object.entries(userinfo)) {
      if (name !== 'sub' && name !== 'iss' && name !== '__proto__' && !PROTOCOL_CLAIMS.has(name)) user[name] = value;
    }
  }
  return user as OidcUser;
}

/** Entries per generation: at most twice this many tokens are held. */
const CLAIMS_GENERATION_SIZE = 2500;

interface CachedToken {
  claims: JWTPayload;
  /** `req.user` of a login without stored userinfo extras, built once per token. */
  user?: OidcUser;
}

/**
 * Decodes (already verified) ID tokens, remembering the recently used ones: a guarded request then costs
 * one Map lookup instead of a base64 + JSON parse and a claims filter. Held per middleware instance,
 * bounded: two generations, a hit in the older one moves the token to the current one, and a full current
 * generation replaces the older one (least recently used tokens go first, one Map operation per hit).
 */
export class ClaimsCache {
  private current = new Map<string, CachedToken>();
  private previous = new Map<string, CachedToken>();

  private entry(idToken: string): CachedToken {
    let entry = this.current.get(idToken);
    if (entry) return entry;
    entry = this.previous.get(idToken);
    if (entry) this.previous.delete(idToken);
    else entry = { claims: Object.freeze(decodeJwt(idToken)) };
    if (this.current.size >= CLAIMS_GENERATION_SIZE) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(idToken, entry);
    return entry;
  }

  get(idToken: string): JWTPayload {
    return this.entry(idToken).claims;
  }

  /**
   * `req.user` for a login: a fresh object per call (apps may add to it), copied from the one built the
   * first time the token was seen unless the session carries userinfo extras.
   */
  user(idToken: string, userinfo: Record<string, unknown> | undefined): OidcUser {
    const entry = this.entry(idToken);
    if (userinfo) return buildUser(entry.claims, userinfo);
    entry.user ??= buildUser(entry.claims, undefined);
    return { ...entry.user };
  }
}
