import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import type { KoaSessionStore } from '../../lib/koa/index.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';
const START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';

export type TestRedis = ReturnType<typeof createClient>;

/**
 * A connected client, or a loud failure that says how to start Redis. These tests never skip: CI runs
 * them with CI=true and `.ci/run` starts Redis first.
 */
export async function connectRedis(): Promise<TestRedis> {
  const client = createClient({ url: REDIS_URL, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    if (client.isOpen) client.destroy();
    const ci = process.env.CI === 'true' ? ' (CI=true: this test must not be skipped)' : '';
    throw new Error(`Redis is not reachable at ${REDIS_URL}${ci}: ${(err as Error).message}. Start it with: ${START_REDIS}`);
  }
  return client;
}

/** A key prefix unique to this run, so parallel runs never see each other's keys. */
export function runPrefix(name: string): string {
  return `oidc-session-test:${name}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

export async function keysUnder(client: TestRedis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) out.push(...keys);
  return out.sort();
}

export async function deletePrefix(client: TestRedis, prefix: string): Promise<void> {
  const keys = await keysUnder(client, prefix);
  if (keys.length) await client.del(keys);
}

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
