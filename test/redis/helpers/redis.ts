import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';

export const REDIS_URL = 'redis://127.0.0.1:6379';
export const START_REDIS = 'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no';

export type TestRedis = ReturnType<typeof createClient>;

/**
 * A connected client for the tests, or a loud failure saying how to start Redis: these tests never skip
 * (CI runs them with CI=true and `.ci/run` starts Redis first).
 */
export async function connectTestRedis(url = REDIS_URL): Promise<TestRedis> {
  const client = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    if (client.isOpen) client.destroy();
    throw new Error(`Redis is not reachable at ${url} (${(err as Error).message}). Start it with: ${START_REDIS}`);
  }
  return client;
}

/** A key prefix unique to this test run, so parallel runs and other test files never see each other's keys. */
export function runPrefix(name: string): string {
  return `oidc-session-test:${name}:${process.pid}:${randomBytes(4).toString('hex')}:`;
}

/** Deletes every key under `prefix` (SCAN is fine here: this is test cleanup, not a request path). */
export async function deletePrefix(client: TestRedis, prefix: string): Promise<number> {
  let deleted = 0;
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
    if (keys.length) deleted += await client.del(keys);
  }
  return deleted;
}

export async function keysUnder(client: TestRedis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) out.push(...keys);
  return out.sort();
}
