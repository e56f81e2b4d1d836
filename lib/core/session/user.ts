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

interface CachedToken {
  /** The whole token: a key names a token only together with this check. */
  idToken: string;
  claims: JWTPayload;
  bytes: number;
  /** `req.user` of a login without stored userinfo extras, built once per token. */
  user?: OidcUser;
}

/** One generation of the cache, with the bytes it holds. */
class Generation {
  readonly entries = new Map<string, CachedToken>();
  bytes = 0;

  add(key: string, entry: CachedToken): void {
    const replaced = this.entries.get(key);
    if (replaced) this.bytes -= replaced.bytes;
    this.entries.set(key, entry);
    this.bytes += entry.bytes;
  }
}

/** Characters of the token's end (its signature) that key the cache. */
const KEY_CHARS = 32;

/**
 * The end of the token's signature, not the token: the token comes out of the session store as a new
 * string on every request, and a Map lookup hashes all of its ~1,000 characters each time (1.4 us here,
 * against 0.2 for the slice). Signatures differ from token to token; two tokens that end alike only
 * share a slot, they are never mistaken for each other (CachedToken.idToken is compared).
 */
function keyOf(idToken: string): string {
  return idToken.length > KEY_CHARS ? idToken.slice(-KEY_CHARS) : idToken;
}

/**
 * Decodes (already verified) ID tokens, remembering the recently used ones: a guarded request then costs
 * one Map lookup instead of a base64 + JSON parse and a claims filter. Held per middleware instance,
 * bounded in entries and in bytes (a count alone let a few thousand large ID tokens, big group claims,
 * hold hundreds of megabytes): two generations of half the bounds each. A hit in the older one moves the
 * token to the current one, and a full current generation replaces the older one, so the least recently
 * used tokens go first at one Map operation per hit (an exact LRU re-inserts on every hit).
 */
export class ClaimsCache {
  private current = new Generation();
  private previous = new Generation();
  private readonly generationEntries: number;
  private readonly generationBytes: number;

  constructor(limits: ClaimsCacheLimits = {}) {
    this.generationEntries = Math.max(1, Math.floor((limits.maxEntries ?? CLAIMS_CACHE_ENTRIES) / 2));
    this.generationBytes = Math.floor((limits.maxBytes ?? CLAIMS_CACHE_BYTES) / 2);
  }

  private entry(idToken: string): CachedToken {
    const key = keyOf(idToken);
    const hit = this.current.entries.get(key);
    if (hit?.idToken === idToken) return hit;
    let entry = this.previous.entries.get(key);
    if (entry?.idToken === idToken) {
      this.previous.entries.delete(key);
      this.previous.bytes -= entry.bytes;
    } else {
      // UTF-16 token (two bytes a character) plus the decoded claims (about three quarters as many
      // characters, and object overhead); the user built from them shares their values.
      entry = { idToken, claims: Object.freeze(decodeJwt(idToken)), bytes: 4 * idToken.length };
      if (entry.bytes > this.generationBytes) return entry;
    }
    const full = this.current.entries.size >= this.generationEntries || this.current.bytes + entry.bytes > this.generationBytes;
    if (full) {
      this.previous = this.current;
      this.current = new Generation();
    }
    this.current.add(key, entry);
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

  /** Entries and (estimated) bytes held, for tests and metrics. */
  get usage(): { entries: number; bytes: number } {
    return { entries: this.current.entries.size + this.previous.entries.size, bytes: this.current.bytes + this.previous.bytes };
  }
}
