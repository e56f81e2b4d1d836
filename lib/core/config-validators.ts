import { createDefaultLogger } from './default-logger.js';
import { OidcError } from './errors.js';
import type { Logger } from './options.js';

/** Parameters the library owns; an app may never override them. */
export const PROTECTED_AUTHORIZATION_PARAMS: ReadonlySet<string> = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'request', 'request_uri', 'client_secret',
]);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function invalid(message: string): OidcError {
  return new OidcError('ERR_OIDC_INVALID_CONFIG', `oidc(): ${message}`);
}

export function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${name}" must be a non-empty string`);
  return value;
}

export function numberInRange(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`"${name}" must be a number from ${min} to ${max}`);
  }
  return value;
}

export function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`"${name}" must be true or false`);
  return value;
}

export function optionalFunction<T>(value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalid(`"${name}" must be a function`);
  return value as T;
}

export function routePath(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9\-._~/]*$/.test(value)) {
    throw invalid(`"routes.${name}" must be a path starting with "/"`);
  }
  return value;
}

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

export function parseUrl(value: unknown, name: string): URL {
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

export function stringRecord(value: unknown, name: string): Record<string, string> {
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

export function resolveLogger(value: unknown): Logger {
  if (value === undefined) return createDefaultLogger();
  const logger = value as Partial<Logger>;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') throw invalid(`"logger.${level}" must be a function`);
  }
  return logger as Logger;
}

export function claimPath(value: unknown, name: string): string | readonly string[] {
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((k) => typeof k === 'string' && k.length > 0)) return Object.freeze([...value]);
  throw invalid(`"${name}" must be a claim name, a dot path or an array of keys`);
}

