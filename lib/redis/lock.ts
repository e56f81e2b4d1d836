import { randomBytes } from 'node:crypto';
import type { TtlLock } from '../core/stores/lock.js';
import { resolveHelper, runScript } from './client.js';
import type { RedisHelperOptions, RedisScriptClient, ResolvedRedisHelper } from './client.js';

const ACQUIRE = `return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])`;
/** Compare-and-delete: a lock that expired and was taken by another instance is never released by us. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
/** Tokens of locks that are never released early (back-channel `jti` entries) are swept past this size. */
const SWEEP_AT = 1000;

class RedisLock implements TtlLock {
  private readonly redis: ResolvedRedisHelper;
  /** key -> the random token this instance wrote, and when the lock expires on its own (ms, local clock). */
  private readonly held = new Map<string, { token: string; until: number }>();

  constructor(redis: ResolvedRedisHelper) {
    this.redis = redis;
  }

  async acquire(key: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    const token = randomBytes(16).toString('base64url');
    const reply = await runScript(this.redis, 'lock acquire', ACQUIRE, [this.redis.prefix + 'lock:' + key], [token, String(ttl)]);
    if (reply !== 'OK') return false;
    if (this.held.size >= SWEEP_AT) this.sweep();
    this.held.set(key, { token, until: Date.now() + ttl });
    return true;
  }

  async release(key: string): Promise<void> {
    const entry = this.held.get(key);
    if (!entry) return;
    this.held.delete(key);
    await runScript(this.redis, 'lock release', RELEASE, [this.redis.prefix + 'lock:' + key], [entry.token]);
  }

  private sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.held) if (entry.until <= now) this.held.delete(key);
  }
}

/**
 * The Redis `lock` for `oidc()`: one instance at a time redeems a refresh token (the others wait for the
 * session store to show the new tokens), and a back-channel logout token id is accepted once across all
 * instances. `SET key token NX PX ttl`; release deletes the key only while it still holds our token.
 */
export function createRedisLock(client: RedisScriptClient, options: RedisHelperOptions): TtlLock {
  return new RedisLock(resolveHelper('createRedisLock', client, options));
}
