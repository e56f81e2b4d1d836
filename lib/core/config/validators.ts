import { OidcError } from '../errors.js';
import { createDefaultLogger } from './default-logger.js';
import { allowedScheme } from './transport.js';
import type { TtlLock } from '../stores/lock.js';
import type { Logger } from './options.js';

/** Parameters the library owns; an app may never override them. */
export const PROTECTED_AUTHORIZATION_PARAMS: ReadonlySet<string> = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'request', 'request_uri', 'client_secret',
]);
/** The JWS algorithms ID tokens, access tokens and DPoP proofs may be signed with: asymmetric only, never none or HS*. */
export const ASYMMETRIC_ALGS: readonly string[] = Object.freeze([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
]);

/**
 * Every check below takes the factory's `Invalid` first, so one set of checks serves `oidc()`,
 * `requireBearer()`, `resilientStore()` and the Redis helpers, each naming itself in the message.
 */
export type Invalid = (message: string) => OidcError;

/** The ERR_OIDC_INVALID_CONFIG maker of one factory: `label` (`oidc()`, `requireBearer()`...) opens the message. */
export function invalidFor(label: string): Invalid {
  return (message) => new OidcError('ERR_OIDC_INVALID_CONFIG', `${label}: ${message}`);
}

export function optionalString(invalid: Invalid, value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${name}" must be a non-empty string`);
  return value;
}

export function numberInRange(invalid: Invalid, value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`"${name}" must be a number from ${min} to ${max}`);
  }
  return value;
}

export function optionalBoolean(invalid: Invalid, value: unknown, name: string, fallback = false): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`"${name}" must be true or false`);
  return value;
}

export function optionalFunction<T>(invalid: Invalid, value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalid(`"${name}" must be a function`);
  return value as T;
}

export function plainObject(invalid: Invalid, value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`"${name}" must be an object`);
  return value as Record<string, unknown>;
}

export function rejectUnknown(invalid: Invalid, value: Record<string, unknown>, known: ReadonlySet<string>, prefix = ''): void {
  for (const key of Object.keys(value)) {
    if (!known.has(key)) throw invalid(`unknown option "${prefix}${key}"`);
  }
}

export function routePath(invalid: Invalid, value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9\-._~/]*$/.test(value)) {
    throw invalid(`"routes.${name}" must be a path starting with "/"`);
  }
  return value;
}

export function parseUrl(invalid: Invalid, value: unknown, name: string): URL {
  if (typeof value !== 'string') throw invalid(`"${name}" must be an absolute http(s) URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`"${name}" must be an absolute http(s) URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`"${name}" must use http or https`);
  if (url.search || url.hash) throw invalid(`"${name}" must not have a query or fragment`);
  return url;
}

export function stringRecord(invalid: Invalid, value: unknown, name: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`"${name}" must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw invalid(`"${name}.${key}" must be a string`);
    if (PROTECTED_AUTHORIZATION_PARAMS.has(key)) throw invalid(`"${name}.${key}" is set by the library and cannot be overridden`);
    out[key] = entry;
  }
  return out;
}

export function resolveLogger(invalid: Invalid, value: unknown): Logger {
  if (value === undefined) return createDefaultLogger();
  const logger = value as Partial<Logger>;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') throw invalid(`"logger.${level}" must be a function`);
  }
  return logger as Logger;
}

export function claimPath(invalid: Invalid, value: unknown, name: string): string | readonly string[] {
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((k) => typeof k === 'string' && k.length > 0)) return Object.freeze([...value]);
  throw invalid(`"${name}" must be a claim name, a dot path or an array of keys`);
}

/** `url` must be https unless allowedScheme() permits http (see idp/transport.ts). */
export function requireHttps(invalid: Invalid, url: URL, name: string, allowInsecure: boolean): void {
  if (!allowedScheme(url, allowInsecure)) {
    throw invalid(`"${name}" must use https (http is allowed for 127.0.0.1, localhost and ::1, or with "allowInsecureRequests: true")`);
  }
}

/** The injected `customFetch` and `clock`, when given, must be functions. */
export function injectedFetchAndClock(invalid: Invalid, options: { customFetch?: unknown; clock?: unknown }): void {
  if (options.customFetch !== undefined && typeof options.customFetch !== 'function') throw invalid('"customFetch" must be a function');
  if (options.clock !== undefined && typeof options.clock !== 'function') throw invalid('"clock" must be a function returning milliseconds');
}

export function lockOption(invalid: Invalid, value: unknown): TtlLock | undefined {
  if (value === undefined || value === null) return undefined;
  const candidate = value as Partial<TtlLock>;
  if (typeof candidate.acquire !== 'function' || typeof candidate.release !== 'function') throw invalid('"lock" must have acquire() and release()');
  return value as TtlLock;
}
