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

/** A userinfo value the ID token already holds (the same primitive, or an object of the same JSON): not stored again. */
function alreadyInIdToken(fromIdToken: unknown, fromUserinfo: unknown): boolean {
  return fromIdToken === fromUserinfo || (typeof fromIdToken === 'object' && fromIdToken !== null && JSON.stringify(fromIdToken) === JSON.stringify(fromUserinfo));
}

/** Userinfo claims the ID token does not already carry with the same value (so nothing is stored twice). */
export function userinfoExtras(idTokenClaims: Record<string, unknown>, userinfo: Record<string, unknown>): Record<string, unknown> | undefined {
  const extras: Record<string, unknown> = {};
  let any = false;
  for (const [name, value] of Object.entries(userinfo)) {
    if (name === 'sub' || name === '__proto__' || PROTOCOL_CLAIMS.has(name) || alreadyInIdToken(idTokenClaims[name], value)) continue;
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

const CLAIMS_CACHE_SIZE = 5000;

/**
 * Decodes (already verified) ID tokens, remembering the most recently used ones: a guarded request then
 * costs a Map lookup instead of a base64 + JSON parse. Held per middleware instance, bounded (LRU).
 */
export class ClaimsCache {
  private readonly entries = new Map<string, JWTPayload>();

  get(idToken: string): JWTPayload {
    let claims = this.entries.get(idToken);
    if (claims) {
      // Map iteration order is insertion order: re-inserting makes this the most recent entry.
      this.entries.delete(idToken);
    } else {
      claims = Object.freeze(decodeJwt(idToken));
      if (this.entries.size >= CLAIMS_CACHE_SIZE) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
    }
    this.entries.set(idToken, claims);
    return claims;
  }
}
