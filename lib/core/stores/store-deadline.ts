import { invalidFor, rejectUnknown } from '../config/validators.js';
import { OidcError } from '../errors.js';

export const DEFAULT_STORE_TIMEOUT_MS = 2000;
const RESILIENT_STORE_OPTIONS: ReadonlySet<string> = new Set(['timeoutMs']);

/** The 503 every store wrapper answers with when its backend fails or is too slow. */
export function storeUnavailable(message: string, cause: unknown): OidcError {
  if (cause instanceof OidcError) return cause;
  return new OidcError('ERR_OIDC_STORE_UNAVAILABLE', message, { cause, headers: { 'Retry-After': '1' } });
}

/** Validates a `timeoutMs` option once, at construction; `factory` names the function in the message. */
export function resolveStoreTimeout(factory: string, value: unknown): number {
  const timeoutMs = value ?? DEFAULT_STORE_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw invalidFor(`${factory}()`)('"timeoutMs" must be a number of milliseconds from 1 to 60000');
  }
  return timeoutMs;
}

export interface ResilientStoreOptions {
  /** Milliseconds a store call may take before it fails with ERR_OIDC_STORE_UNAVAILABLE. Default 2000. */
  timeoutMs?: number;
}

/** The options of either adapter's `resilientStore()`: an object with `timeoutMs` alone. */
export function resilientStoreTimeout(options: unknown): number {
  const invalid = invalidFor('resilientStore()');
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  rejectUnknown(invalid, options as Record<string, unknown>, RESILIENT_STORE_OPTIONS);
  return resolveStoreTimeout('resilientStore', (options as { timeoutMs?: unknown }).timeoutMs);
}

/**
 * The backend's answer, or ERR_OIDC_STORE_UNAVAILABLE when `call` throws, rejects, or `timeoutMs` passes
 * first. A late answer is dropped (a late write may still land: hence `disableOfflineQueue` for node-redis).
 */
export async function withDeadline<T>(message: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), deadline]);
  } catch (err) {
    throw storeUnavailable(message, err);
  } finally {
    clearTimeout(timer);
  }
}
