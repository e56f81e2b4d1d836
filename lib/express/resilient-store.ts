import session from 'express-session';
import type { SessionData, Store } from 'express-session';
import type { Request } from 'express';
import { OidcError } from '../core/errors.js';
import { resilientStoreTimeout } from '../core/config/store-options.js';
import type { ResilientStoreOptions } from '../core/config/store-options.js';
import { invalidFor } from '../core/config/validators.js';
import { storeUnavailable } from '../core/stores/store-deadline.js';

export type { ResilientStoreOptions } from '../core/config/store-options.js';

type StoreMethod = 'get' | 'set' | 'destroy' | 'touch' | 'all' | 'length' | 'clear';
type AnyStore = Store & Partial<Record<StoreMethod, (...args: unknown[]) => unknown>>;

const invalid = invalidFor('resilientStore()');

function unavailable(method: StoreMethod, cause: unknown): OidcError {
  return storeUnavailable(`The session store is unavailable (${method} failed)`, cause);
}

/**
 * An express-session Store that forwards to another one with a deadline on every call. It extends
 * express-session's own Store, so `load`, `regenerate` (which calls the `generate` express-session
 * installs on this object) and the EventEmitter contract work unchanged and go through the deadline too.
 *
 * The wrapped store's `connect`/`disconnect` events are deliberately not forwarded: on `disconnect`
 * express-session silently runs requests without any session, which logs every user out (and makes
 * oidc() fail with ERR_OIDC_NO_SESSION) instead of answering a clear 503 while the store is down.
 */
class ResilientStore extends session.Store {
  private readonly inner: AnyStore;
  private readonly timeoutMs: number;

  constructor(inner: AnyStore, timeoutMs: number) {
    super();
    this.inner = inner;
    this.timeoutMs = timeoutMs;
    // express-session checks `typeof store.touch === 'function'`: only offer what the wrapped store has.
    if (typeof inner.touch === 'function') {
      this.touch = (sid: string, sess: SessionData, callback?: () => void) => this.call('touch', [sid, sess], callback);
    }
    if (typeof inner.all === 'function') this.all = (callback) => this.call('all', [], callback);
    if (typeof inner.length === 'function') this.length = (callback) => this.call('length', [], callback);
    if (typeof inner.clear === 'function') this.clear = (callback) => this.call('clear', [], callback);
  }

  get(sid: string, callback: (err: unknown, session?: SessionData | null) => void): void {
    this.call('get', [sid], callback);
  }

  set(sid: string, sess: SessionData, callback?: (err?: unknown) => void): void {
    this.call('set', [sid, sess], callback);
  }

  destroy(sid: string, callback?: (err?: unknown) => void): void {
    this.call('destroy', [sid], callback);
  }

  override createSession(req: Request, sess: SessionData): session.Session & SessionData {
    // A store may build its own Session objects; it has no I/O here, so no deadline is needed.
    return this.inner.createSession(req, sess);
  }

  /**
   * Calls the wrapped store once and the callback exactly once: with the store's answer, with an
   * ERR_OIDC_STORE_UNAVAILABLE error when it fails, throws or rejects, or when `timeoutMs` passes first.
   * A late answer is dropped (a late write may still land: hence `disableOfflineQueue` for node-redis).
   */
  private call<R>(method: StoreMethod, args: unknown[], callback: ((err: unknown, result?: R) => void) | undefined): void {
    let settled = false;
    const settle = (err: unknown, result?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!callback) return;
      // express-session treats ENOENT from get() as "no such session" (file stores use it).
      if (err && (err as { code?: unknown }).code !== 'ENOENT') callback(unavailable(method, err));
      else if (err) callback(err);
      else callback(null, result as R);
    };
    const timer = setTimeout(() => settle(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    try {
      const returned = (this.inner[method] as (...a: unknown[]) => unknown).call(this.inner, ...args, (err?: unknown, result?: unknown) =>
        settle(err ?? null, result),
      );
      if (returned && typeof (returned as Promise<unknown>).then === 'function') {
        (returned as Promise<unknown>).then(undefined, (err: unknown) => settle(err ?? new Error(`${method} rejected`)));
      }
    } catch (err) {
      settle(err);
    }
  }
}

/**
 * Wraps any express-session store so that a failed or slow call answers, within `timeoutMs`, with an
 * OidcError `ERR_OIDC_STORE_UNAVAILABLE` (status 503) instead of hanging the request or crashing:
 * `app.use(session({ store: resilientStore(new RedisStore({ client })), ... }))`.
 */
export function resilientStore(store: Store, options: ResilientStoreOptions = {}): Store {
  const inner = store as AnyStore;
  if (typeof store !== 'object' || store === null || typeof store.on !== 'function') {
    throw invalid('the first argument must be an express-session store (an EventEmitter with get, set and destroy)');
  }
  for (const method of ['get', 'set', 'destroy', 'createSession'] as const) {
    if (typeof inner[method] !== 'function') throw invalid(`the store has no ${method}() method`);
  }
  const timeoutMs = resilientStoreTimeout(options);
  return new ResilientStore(inner, timeoutMs);
}
