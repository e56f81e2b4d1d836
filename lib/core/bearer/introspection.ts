import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import { allowedScheme } from '../config/transport.js';
import { OidcError } from '../errors.js';
import { isTimeout } from '../idp/upstream-error.js';
import { invalidToken } from './challenge.js';
import type { TokenScheme } from './challenge.js';
import type { ResolvedBearer, ResolvedIntrospection } from './options.js';

/** Positive answers kept per verifier; the oldest goes first beyond this. */
const CACHE_MAX_ENTRIES = 1000;
/**
 * Refusals kept per verifier, and for how long: a client retrying a revoked or unknown token costs one
 * IdP call per 10 s, not one per request. Short and bounded: every unknown token an attacker makes up
 * takes an entry.
 */
const DENIED_MAX_ENTRIES = 1000;
const DENIED_TTL_MS = 10_000;

interface CacheEntry {
  claims: Readonly<Record<string, unknown>>;
  /** Epoch milliseconds. */
  until: number;
}

interface DeniedEntry {
  /** Why the token was refused (our own text, the challenge's error_description). */
  reason: string;
  /** Epoch milliseconds. */
  until: number;
}

/** Why a token is refused; `lasting` when the same token would get the same answer later (all but "not valid yet"). */
interface Refusal {
  reason: string;
  lasting: boolean;
}

/** How to reach the IdP, settled by discovery. */
export interface IntrospectionTransport {
  server: client.ServerMetadata;
  allowInsecure: boolean;
  timeoutSec: number;
  customFetch: typeof fetch | undefined;
}

/** An openid-client Configuration for the resource server's own credentials (not the login client's). */
export function introspectionConfig(settings: ResolvedIntrospection, transport: IntrospectionTransport): client.Configuration {
  const endpoint = transport.server.introspection_endpoint;
  if (!endpoint) throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', 'The IdP metadata has no introspection_endpoint');
  const url = new URL(endpoint);
  if (!allowedScheme(url, transport.allowInsecure)) {
    throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', 'The IdP introspection_endpoint must use https');
  }
  const auth = settings.clientAuthMethod === 'client_secret_post'
    ? client.ClientSecretPost(settings.clientSecret)
    : client.ClientSecretBasic(settings.clientSecret);
  const config = new client.Configuration(transport.server, settings.clientId, undefined, auth);
  config.timeout = transport.timeoutSec;
  if (url.protocol === 'http:') client.allowInsecureRequests(config);
  if (transport.customFetch) config[client.customFetch] = transport.customFetch as unknown as client.CustomFetch;
  return config;
}

function audiences(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function upstream(err: unknown): OidcError {
  if (isTimeout(err)) return new OidcError('ERR_OIDC_IDP_TIMEOUT', "The IdP's introspection endpoint did not answer in time", { cause: err });
  const detail = err instanceof client.ResponseBodyError ? ` (${err.error}, HTTP ${err.status})` : '';
  return new OidcError('ERR_OIDC_INTROSPECTION_FAILED', `The IdP's introspection endpoint failed${detail}`, { cause: err });
}

/**
 * RFC 7662 token introspection with a short positive cache (bounded in size and by the token's `exp`),
 * and one request in flight per token however many requests carry it.
 */
export class Introspector {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly denied = new Map<string, DeniedEntry>();
  private readonly pending = new Map<string, Promise<Readonly<Record<string, unknown>>>>();
  private readonly settings: ResolvedBearer;
  private readonly introspection: ResolvedIntrospection;

  constructor(settings: ResolvedBearer, introspection: ResolvedIntrospection) {
    this.settings = settings;
    this.introspection = introspection;
  }

  async claims(config: client.Configuration, issuer: string, token: string, scheme: TokenScheme, nowMs: number): Promise<Readonly<Record<string, unknown>>> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.cache.get(key);
    if (hit && hit.until > nowMs) return hit.claims;
    if (hit) this.cache.delete(key);
    const refused = this.denied.get(key);
    if (refused && refused.until > nowMs) throw invalidToken(this.settings, scheme, refused.reason);
    if (refused) this.denied.delete(key);
    let flight = this.pending.get(key);
    if (!flight) {
      flight = this.fetch(config, token).finally(() => this.pending.delete(key));
      this.pending.set(key, flight);
    }
    const response = await flight;
    const refusal = this.validate(response, issuer, nowMs);
    if (refusal) {
      if (refusal.lasting) this.rememberDenied(key, refusal.reason, nowMs);
      throw invalidToken(this.settings, scheme, refusal.reason);
    }
    this.remember(key, response, nowMs);
    return response;
  }

  private async fetch(config: client.Configuration, token: string): Promise<Readonly<Record<string, unknown>>> {
    try {
      return Object.freeze({ ...(await client.tokenIntrospection(config, token, { token_type_hint: 'access_token' })) });
    } catch (err) {
      throw upstream(err);
    }
  }

  /** RFC 7662 §2.2 plus what a JWT would have had to pass: active, exp / nbf, aud, iss, token type. */
  private validate(claims: Readonly<Record<string, unknown>>, issuer: string, nowMs: number): Refusal | undefined {
    const s = this.settings;
    const fail = (reason: string, lasting = true): Refusal => ({ reason, lasting });
    if (claims.active !== true) return fail('The access token is not active (expired, revoked or unknown)');
    const nowSec = nowMs / 1000;
    if (typeof claims.exp === 'number' && claims.exp <= nowSec - s.clockToleranceSec) return fail('The access token has expired');
    if (typeof claims.nbf === 'number' && claims.nbf > nowSec + s.clockToleranceSec) return fail('The access token is not valid yet', false);
    if (s.strict && typeof claims.exp !== 'number') return fail('The access token has no exp claim');
    // RFC 7662 makes aud and token_type optional, and some IdPs (LemonLDAP::NG) send neither. Without an
    // audience the token could be meant for any API of this IdP, so an aud-less answer is accepted only when
    // the rest binds the token to us: issued to the very client that introspects it (named as one of our
    // audiences: an app's own API called with its own users' tokens), with an exp, and from our issuer.
    const type = typeof claims.token_type === 'string' ? claims.token_type.toLowerCase() : undefined;
    if (type !== undefined ? type !== 'bearer' && type !== 'dpop' : s.strict) return fail('The token is not an access token');
    if (claims.iss !== undefined && claims.iss !== issuer) return fail('The access token was issued by another issuer');
    const ownToken = claims.aud === undefined && claims.client_id === this.introspection.clientId &&
      s.audience.includes(this.introspection.clientId) && typeof claims.exp === 'number';
    if (!ownToken && !audiences(claims.aud).some((aud) => s.audience.includes(aud))) return fail('The access token is meant for another audience');
    return undefined;
  }

  private rememberDenied(key: string, reason: string, nowMs: number): void {
    this.denied.delete(key);
    // Insertion order is age order (all entries live equally long): the first entry is the oldest.
    if (this.denied.size >= DENIED_MAX_ENTRIES) {
      const oldest = this.denied.keys().next().value;
      if (oldest !== undefined) this.denied.delete(oldest);
    }
    this.denied.set(key, { reason, until: nowMs + DENIED_TTL_MS });
  }

  private remember(key: string, claims: Readonly<Record<string, unknown>>, nowMs: number): void {
    const ttlMs = this.introspection.cacheTtlSec * 1000;
    if (ttlMs === 0) return;
    const until = Math.min(nowMs + ttlMs, typeof claims.exp === 'number' ? claims.exp * 1000 : Infinity);
    if (until <= nowMs) return;
    this.cache.delete(key);
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      for (const [old, entry] of this.cache) {
        if (entry.until <= nowMs) this.cache.delete(old);
      }
      if (this.cache.size >= CACHE_MAX_ENTRIES) {
        const oldest = this.cache.keys().next().value;
        if (oldest !== undefined) this.cache.delete(oldest);
      }
    }
    this.cache.set(key, { claims, until });
  }

  /** Entries currently cached (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }
}
