import { resilientStoreTimeout } from '../core/config/store-options.js';
import type { ResilientStoreOptions } from '../core/config/store-options.js';
import { invalidFor } from '../core/config/validators.js';
import { withDeadline } from '../core/stores/store-deadline.js';
import type { KoaSessionStore } from './session-port.js';

export type { ResilientStoreOptions } from '../core/config/store-options.js';

type Method = 'get' | 'set' | 'destroy';

const invalid = invalidFor('resilientStore()');

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
  const timeoutMs = resilientStoreTimeout(options);
  return {
    get: (key, maxAge, opts) => withDeadline(failed('get'), timeoutMs, () => store.get(key, maxAge, opts)),
    set: (key, value, maxAge, opts) => withDeadline(failed('set'), timeoutMs, () => store.set(key, value, maxAge, opts)),
    destroy: (key, opts) => withDeadline(failed('destroy'), timeoutMs, () => store.destroy(key, opts)),
  };
}
