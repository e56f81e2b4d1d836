import { invalidFor } from '../core/config/validators.js';
import { resolveStoreTimeout } from '../core/config/store-options.js';
import { withDeadline } from '../core/stores/store-deadline.js';

/**
 * The part of a node-redis v5 client the Redis helpers use: a `createClient()` result (RESP2 or RESP3,
 * with or without modules) fits. Kept structural so this module never loads `redis` at runtime.
 */
export interface RedisScriptClient {
  /** node-redis v5 `client.eval()`: runs a Lua script atomically. */
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

/** Options shared by the Redis helpers (`createRedisLock()`, `createRedisSessionIndex()`). */
export interface RedisHelperOptions {
  /** Prepended to every key, e.g. `myapp:oidc:`. Required, so that apps sharing a Redis never collide. */
  prefix: string;
  /** A Redis call that has not answered after this many milliseconds fails with ERR_OIDC_STORE_UNAVAILABLE. Default 2000. */
  timeoutMs?: number;
}

export interface ResolvedRedisHelper {
  readonly client: RedisScriptClient;
  readonly prefix: string;
  readonly timeoutMs: number;
}


/** Checks the arguments once, at construction, with messages naming the option. */
export function resolveHelper(factory: string, client: unknown, options: RedisHelperOptions | undefined): ResolvedRedisHelper {
  const invalid = invalidFor(`${factory}()`);
  if (typeof client !== 'object' || client === null || typeof (client as Partial<RedisScriptClient>).eval !== 'function') {
    throw invalid('the first argument must be a connected node-redis v5 client (createClient())');
  }
  if (typeof options !== 'object' || options === null) throw invalid('options { prefix } are required');
  for (const key of Object.keys(options)) {
    if (key !== 'prefix' && key !== 'timeoutMs') throw invalid(`unknown option "${key}"`);
  }
  if (typeof options.prefix !== 'string' || options.prefix.length === 0 || options.prefix.length > 200) {
    throw invalid('"prefix" must be a non-empty string (at most 200 characters), e.g. "myapp:oidc:"');
  }
  const timeoutMs = resolveStoreTimeout(factory, options.timeoutMs);
  return Object.freeze({ client: client as RedisScriptClient, prefix: options.prefix, timeoutMs });
}

/**
 * Runs one script with a deadline. node-redis may queue commands while it reconnects (unless the client
 * has `disableOfflineQueue: true`) or wait on a half-open socket; the request must not wait with it.
 */
export function runScript(helper: ResolvedRedisHelper, what: string, script: string, keys: string[], args: string[]): Promise<unknown> {
  return withDeadline(`Redis is unavailable (${what})`, helper.timeoutMs, () => helper.client.eval(script, { keys, arguments: args }));
}
