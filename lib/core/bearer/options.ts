import { ASYMMETRIC_ALGS, numberInRange, optionalBoolean, plainObject, rejectUnknown } from '../config/validators.js';
import type { Invalid } from '../config/validators.js';
import type { TtlLock } from '../stores/lock.js';
import type { Clock } from '../config/options.js';

/** Opaque access tokens are checked at the IdP's introspection endpoint (RFC 7662) with these credentials. */
export interface IntrospectionOptions {
  clientId: string;
  clientSecret: string;
  /** Default `client_secret_basic`. */
  clientAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  /** Seconds an "active" answer is reused, never past the token's `exp`. Default 30; 0 turns the cache off. */
  cacheTtl?: number;
}

/** DPoP (RFC 9449): sender-constrained tokens, presented as `Authorization: DPoP <token>` with a `DPoP` proof. */
export interface DpopOptions {
  /** Refuse plain Bearer tokens. Default false: both are accepted, and DPoP-bound tokens always need their proof. */
  required?: boolean;
  /** Algorithms a proof may be signed with. Default: every asymmetric JWS algorithm. */
  algorithms?: string[];
}

/** What both `requireBearer()` and `requireAuth({ bearer })` accept. */
export interface BearerVerifyOptions {
  /** The `aud` this API answers to (any of them when several). */
  audience?: string | string[];
  /** Scopes every request must carry (all of them). Default none. */
  scopes?: string[];
  /** Algorithms access tokens may be signed with. Default: every asymmetric JWS algorithm, never `none` or HS*. */
  algorithms?: string[];
  /** Seconds of clock skew tolerated on `exp`, `nbf` and DPoP `iat`. Default 60, at most 300. */
  clockTolerance?: number;
  /** Seconds between two JWKS fetches caused by an unknown `kid`. Default 30. */
  jwksCooldown?: number;
  /** Check opaque (non-JWT) access tokens at the introspection endpoint. Default: opaque tokens are refused. */
  introspection?: IntrospectionOptions;
  /** Accept DPoP-bound tokens (and, with `required`, only those). Default: DPoP is refused. */
  dpop?: DpopOptions;
  /** RFC 9068 to the letter: `typ` must be `at+jwt` and iss, exp, aud, sub, client_id, iat, jti must be present. Default false. */
  strict?: boolean;
  /** `realm` of the WWW-Authenticate challenges. Default none. */
  realm?: string;
}

/** `requireBearer()` options: a resource server on its own, with its own discovery. */
export interface BearerOptions extends BearerVerifyOptions {
  /** Issuer URL; discovery runs against `{issuer}/.well-known/openid-configuration`. */
  issuer: string;
  audience: string | string[];
  /**
   * The API's public URL (origin, and the path prefix a proxy strips, if any), which DPoP proofs name in
   * `htu`. Required with `dpop`: the `Host` and `X-Forwarded-*` headers are the client's word.
   */
  baseUrl?: string;
  /** Timeout of every HTTP call to the IdP, in milliseconds. Default 5000. */
  httpTimeout?: number;
  /** Allow `http://` issuers that are not loopback. Default false. Development only. */
  allowInsecureRequests?: boolean;
  /** The fetch used for every IdP request. Default: Node's http/https over keep-alive connections, as `oidc()`. */
  customFetch?: typeof fetch;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: Clock;
  /** Where DPoP proof ids (`jti`) are remembered against replay; share one (Redis) across instances. Default: in-process. */
  lock?: TtlLock;
}

/** `requireAuth({ bearer })` options: issuer, fetch, clock and lock come from `oidc()`; `audience` defaults to the clientId. */
export type BearerGuardOptions = BearerVerifyOptions;

export interface ResolvedIntrospection {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly clientAuthMethod: 'client_secret_basic' | 'client_secret_post';
  readonly cacheTtlSec: number;
}

export interface ResolvedBearer {
  readonly audience: readonly string[];
  readonly scopes: readonly string[];
  readonly algorithms: readonly string[];
  readonly clockToleranceSec: number;
  readonly jwksCooldownSec: number;
  readonly introspection: ResolvedIntrospection | undefined;
  readonly dpop: { readonly required: boolean; readonly algorithms: readonly string[] } | undefined;
  readonly strict: boolean;
  readonly realm: string | undefined;
  /** Public URL of the API (DPoP `htu`): `baseUrl` of requireBearer(), or of oidc() for requireAuth({ bearer }). */
  readonly baseUrl: URL | undefined;
}

const VERIFY_KEYS = ['audience', 'scopes', 'algorithms', 'clockTolerance', 'jwksCooldown', 'introspection', 'dpop', 'strict', 'realm'];
export const STANDALONE_KEYS: ReadonlySet<string> = new Set([
  ...VERIFY_KEYS, 'issuer', 'baseUrl', 'httpTimeout', 'allowInsecureRequests', 'customFetch', 'clock', 'lock',
]);
const GUARD_KEYS: ReadonlySet<string> = new Set(VERIFY_KEYS);
/** RFC 6749 scope-token characters: printable ASCII without space, `"` and `\` (so they are header-safe too). */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const REALM = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

function algorithmList(invalid: Invalid, value: unknown, name: string): readonly string[] {
  if (value === undefined) return ASYMMETRIC_ALGS;
  if (!Array.isArray(value) || value.length === 0 || value.some((alg) => typeof alg !== 'string' || !ASYMMETRIC_ALGS.includes(alg))) {
    throw invalid(`"${name}" must be a non-empty list of asymmetric JWS algorithms (${ASYMMETRIC_ALGS.join(', ')}); never none or HS*`);
  }
  return Object.freeze([...new Set(value as string[])]);
}

function audienceList(invalid: Invalid, value: unknown, fallback: string | undefined): readonly string[] {
  const list = value === undefined ? (fallback === undefined ? [] : [fallback]) : Array.isArray(value) ? value : [value];
  if (list.length === 0) throw invalid('"audience" is required (the `aud` your API answers to)');
  if (list.some((aud) => typeof aud !== 'string' || aud.length === 0)) throw invalid('"audience" must be a non-empty string or a list of them');
  return Object.freeze([...(list as string[])]);
}

function scopeList(invalid: Invalid, value: unknown): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value) || value.some((scope) => typeof scope !== 'string' || !SCOPE_TOKEN.test(scope))) {
    throw invalid('"scopes" must be a list of scope names (no spaces or quotes)');
  }
  return Object.freeze([...(value as string[])]);
}

function resolveIntrospection(invalid: Invalid, value: unknown): ResolvedIntrospection | undefined {
  if (value === undefined) return undefined;
  const input = plainObject(invalid, value, 'introspection');
  rejectUnknown(invalid, input, new Set(['clientId', 'clientSecret', 'clientAuthMethod', 'cacheTtl']), 'introspection.');
  for (const name of ['clientId', 'clientSecret'] as const) {
    if (typeof input[name] !== 'string' || input[name] === '') throw invalid(`"introspection.${name}" must be a non-empty string`);
  }
  const method = input.clientAuthMethod ?? 'client_secret_basic';
  if (method !== 'client_secret_basic' && method !== 'client_secret_post') {
    throw invalid('"introspection.clientAuthMethod" must be client_secret_basic or client_secret_post');
  }
  return Object.freeze({
    clientId: input.clientId as string,
    clientSecret: input.clientSecret as string,
    clientAuthMethod: method,
    cacheTtlSec: numberInRange(invalid, input.cacheTtl, 'introspection.cacheTtl', 30, 0, 300),
  });
}

function resolveDpop(invalid: Invalid, value: unknown): ResolvedBearer['dpop'] {
  if (value === undefined) return undefined;
  const input = plainObject(invalid, value, 'dpop');
  rejectUnknown(invalid, input, new Set(['required', 'algorithms']), 'dpop.');
  return Object.freeze({
    required: optionalBoolean(invalid, input.required, 'dpop.required'),
    algorithms: algorithmList(invalid, input.algorithms, 'dpop.algorithms'),
  });
}

function publicUrl(invalid: Invalid, value: unknown, fallback: URL | undefined, dpop: boolean): URL | undefined {
  if (value === undefined) {
    if (dpop && !fallback) throw invalid('"baseUrl" (the API\'s public URL, which DPoP proofs name in "htu") is required with "dpop"');
    return fallback;
  }
  let url: URL;
  try {
    url = new URL(value as string);
  } catch {
    throw invalid('"baseUrl" must be an absolute http(s) URL');
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash) throw invalid('"baseUrl" must be an absolute http(s) URL without query or fragment');
  return url;
}

/**
 * Validates the verification options once, at construction. `defaults` carries what `requireAuth({ bearer })`
 * inherits from `oidc()`: the client id (default audience), the clock tolerance and the public URL.
 */
export function resolveBearerOptions(
  options: BearerVerifyOptions,
  invalid: Invalid,
  defaults: { clientId?: string; clockToleranceSec?: number; baseUrl?: URL } = {},
  standalone = false,
): ResolvedBearer {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  rejectUnknown(invalid, options as Record<string, unknown>, standalone ? STANDALONE_KEYS : GUARD_KEYS);
  const dpop = resolveDpop(invalid, options.dpop);
  const audience = audienceList(invalid, options.audience, defaults.clientId);
  if (options.realm !== undefined && (typeof options.realm !== 'string' || !REALM.test(options.realm))) {
    throw invalid('"realm" must be a string of printable characters without quotes or backslashes');
  }
  return Object.freeze({
    audience,
    scopes: scopeList(invalid, options.scopes),
    algorithms: algorithmList(invalid, options.algorithms, 'algorithms'),
    clockToleranceSec: numberInRange(invalid, options.clockTolerance, 'clockTolerance', defaults.clockToleranceSec ?? 60, 0, 300),
    jwksCooldownSec: numberInRange(invalid, options.jwksCooldown, 'jwksCooldown', 30, 0, 600),
    introspection: resolveIntrospection(invalid, options.introspection),
    dpop,
    strict: optionalBoolean(invalid, options.strict, 'strict'),
    realm: options.realm,
    baseUrl: publicUrl(invalid, (options as { baseUrl?: unknown }).baseUrl, defaults.baseUrl, dpop !== undefined),
  });
}
