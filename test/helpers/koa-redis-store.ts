import type { KoaSessionStore } from '../../lib/koa/index.js';
import type { TestRedis } from '../redis/helpers/redis.js';

/**
 * A koa-session external store over node-redis, the way an app would write one: JSON values under
 * `prefix + key`, expiring with the session's maxAge (koa-session passes it in milliseconds).
 */
export function koaRedisStore(client: TestRedis, prefix: string): KoaSessionStore {
  return {
    async get(key) {
      const raw = await client.get(prefix + key);
      return raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    },
    async set(key, session, maxAge) {
      const value = JSON.stringify(session);
      if (typeof maxAge === 'number') await client.set(prefix + key, value, { expiration: { type: 'PX', value: maxAge } });
      else await client.set(prefix + key, value);
    },
    async destroy(key) {
      await client.del(prefix + key);
    },
  };
}
