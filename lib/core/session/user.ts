import { decodeJwt } from 'jose';
import type { JWTPayload } from 'jose';
import type { StandardClaims } from '../config/claims.js';

/** Claims that describe the token, not the user; they are left out of `req.user`. */
export const PROTOCOL_CLAIMS: ReadonlySet<string> = new Set([
  'aud', 'azp', 'exp', 'iat', 'nbf', 'jti', 'nonce', 'at_hash', 'c_hash', 's_hash', 'auth_time', 'acr', 'amr', 'sid', 'typ',
]);

/**
 * The user an app sees as `req.user` / `ctx.state.user`: the ID token's claims without the protocol
 * claims, merged with userinfo, or what `onLogin` returned. Declare your own claims (and the shape
 * `onLogin` returns) by augmenting this interface, for Express and Koa alike:
 *
 * ```ts
 * declare module 'oidc-session' {
 *   interface OidcUser { roles?: string[]; tenant: string }
 * }
 * ```
 */
export interface OidcUser extends StandardClaims {
  /** The user's stable identifier at the IdP; with `iss`, the key to store users by. */
  sub: string;
  /** The IdP that logged the user in. */
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

/** Default bounds of the decoded-claims cache. */
const CLAIMS_CACHE_ENTRIES = 5000;
const CLAIMS_CACHE_BYTES = 8 * 1024 * 1024;

export interface ClaimsCacheLimits {
  maxEntries?: number;
  maxBytes?: number;
}

/**
 * Decodes (already verified) ID tokens, remembering the most recently used ones: a guarded request then
 * costs a Map lookup instead of a base64 + JSON parse. Held per middleware instance, bounded (LRU) both
 * in entries and in bytes: a count alone let a few thousand large ID tokens (big group claims) hold
 * hundreds of megabytes.
 */
export class ClaimsCache {
  private readonly entries = new Map<string, { claims: JWTPayload; bytes: number }>();
  private readonly maxEntries: number;
  private readonly maxBytes: number;
  private heldBytes = 0;

  constructor(limits: ClaimsCacheLimits = {}) {
    this.maxEntries = limits.maxEntries ?? CLAIMS_CACHE_ENTRIES;
    this.maxBytes = limits.maxBytes ?? CLAIMS_CACHE_BYTES;
  }

  get(idToken: string): JWTPayload {
    const hit = this.entries.get(idToken);
    if (hit) {
      // Map iteration order is insertion order: re-inserting makes this the most recent entry.
      this.entries.delete(idToken);
      this.entries.set(idToken, hit);
      return hit.claims;
    }
    const claims = Object.freeze(decodeJwt(idToken));
    // UTF-16 key (two bytes a character) plus the decoded claims (about three quarters as many characters, and object overhead).
    const bytes = 4 * idToken.length;
    if (bytes > this.maxBytes) return claims;
    while (this.entries.size > 0 && (this.entries.size >= this.maxEntries || this.heldBytes + bytes > this.maxBytes)) {
      const [oldest, entry] = this.entries.entries().next().value as [string, { bytes: number }];
      this.entries.delete(oldest);
      this.heldBytes -= entry.bytes;
    }
    this.entries.set(idToken, { claims, bytes });
    this.heldBytes += bytes;
    return claims;
  }

  /** Entries and (estimated) bytes held, for tests and metrics. */
  get usage(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.heldBytes };
  }
}
