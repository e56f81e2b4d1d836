import { OidcError } from '../core/errors.js';
import { resolveStoreTimeout, withDeadline } from '../core/store-deadline.js';
import type { KoaSessionStore } from './session-port.js';

/** Options of `resilientStore()`. */
export interface ResilientStoreOptions {
  /** Milliseconds a store call may take before it fails with ERR_OIDC_STORE_UNAVAILABLE. Default 2000. */
  timeoutMs?: number;
}

type Method = 'get' | 'set' | 'destroy';

function invalid(message: string): OidcError {
  return new OidcError('ERR_OIDC_INVALID_CONFIG', `resilientStore(): ${message}`);
}

const failed = (method: Method): string => `The session store is unavailable (${method} failed)`;

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
  const timeoutMs = resolveStoreTimeout('resilientStore', options.timeoutMs);
  return {
    get: (key, maxAge, opts) => withDeadline(failed('get'), timeoutMs, () => store.get(key, maxAge, opts)),
    set: (key, value, maxAge, opts) => withDeadline(failed('set'), timeoutMs, () => store.set(key, value, maxAge, opts)),
    destroy: (key, opts) => withDeadline(failed('destroy'), timeoutMs, () => store.destroy(key, opts)),
  };
}
