import { OidcError } from '../core/errors.js';
import type { KoaSessionStore } from './session-port.js';

export interface ResilientStoreOptions {
  /** Milliseconds a store call may take before it fails with ERR_OIDC_STORE_UNAVAILABLE. Default 2000. */
  timeoutMs?: number;
}

type Method = 'get' | 'set' | 'destroy';
const DEFAULT_TIMEOUT_MS = 2000;

function invalid(message: string): OidcError {
  return new OidcError('ERR_OIDC_INVALID_CONFIG', `resilientStore(): ${message}`);
}

function unavailable(method: Method, cause: unknown): OidcError {
  if (cause instanceof OidcError) return cause;
  return new OidcError('ERR_OIDC_STORE_UNAVAILABLE', `The session store is unavailable (${method} failed)`, {
    cause,
    headers: { 'Retry-After': '1' },
  });
}

/**
 * The store's answer, or ERR_OIDC_STORE_UNAVAILABLE when it throws, rejects, or `timeoutMs` passes first.
 * A late answer is dropped (a late write may still land: hence `disableOfflineQueue` for node-redis).
 */
async function withDeadline<T>(method: Method, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), deadline]);
  } catch (err) {
    throw unavailable(method, err);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wraps a koa-session external store so that a failed or slow call answers, within `timeoutMs`, with an
 * OidcError `ERR_OIDC_STORE_UNAVAILABLE` (status 503, `Retry-After`) instead of hanging the request:
 * `app.use(session({ store: resilientStore(redisStore) }, app))`. The Koa twin of the Express helper.
 */
export function resilientStore(store: KoaSessionStore, options: ResilientStoreOptions = {}): KoaSessionStore {
  if (typeof store !== 'object' || store === null) throw invalid('the first argument must be a koa-session store (get, set and destroy)');
  for (const method of ['get', 'set', 'destroy'] as const) {
    if (typeof store[method] !== 'function') throw invalid(`the store has no ${method}() method`);
  }
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  for (const key of Object.keys(options)) if (key !== 'timeoutMs') throw invalid(`unknown option "${key}"`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw invalid('"timeoutMs" must be a number of milliseconds from 1 to 60000');
  }
  return {
    get: (key, maxAge, opts) => withDeadline('get', timeoutMs, () => store.get(key, maxAge, opts)),
    set: (key, value, maxAge, opts) => withDeadline('set', timeoutMs, () => store.set(key, value, maxAge, opts)),
    destroy: (key, opts) => withDeadline('destroy', timeoutMs, () => store.destroy(key, opts)),
  };
}
