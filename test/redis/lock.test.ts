import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisLock } from '../../lib/redis/index.js';
import type { RedisScriptClient } from '../../lib/redis/index.js';
import { connectTestRedis, deletePrefix, keysUnder, runPrefix } from './helpers/redis.js';
import type { TestRedis } from './helpers/redis.js';

let redis: TestRedis;
let other: TestRedis;
const prefix = runPrefix('lock');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  redis = await connectTestRedis();
  other = await connectTestRedis();
});
afterAll(async () => {
  if (!redis) return;
  await deletePrefix(redis, prefix);
  await redis.close();
  await other?.close();
});

describe('createRedisLock', () => {
  it('lets one holder take a key until it releases it, across instances and connections', async () => {
    const a = createRedisLock(redis, { prefix });
    const b = createRedisLock(other, { prefix });
    expect(await a.acquire('refresh:one', 5000)).toBe(true);
    expect(await a.acquire('refresh:one', 5000)).toBe(false);
    expect(await b.acquire('refresh:one', 5000)).toBe(false);
    expect(await b.acquire('refresh:two', 5000)).toBe(true);
    expect(await keysUnder(redis, prefix)).toEqual([`${prefix}lock:refresh:one`, `${prefix}lock:refresh:two`]);
    await a.release('refresh:one');
    expect(await b.acquire('refresh:one', 5000)).toBe(true);
    await b.release('refresh:one');
    await b.release('refresh:two');
    expect(await keysUnder(redis, prefix)).toEqual([]);
  });

  it('expires on its own after ttlMs (PX)', async () => {
    const a = createRedisLock(redis, { prefix });
    const b = createRedisLock(redis, { prefix });
    expect(await a.acquire('ttl', 150)).toBe(true);
    const pttl = await redis.pTTL(`${prefix}lock:ttl`);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(150);
    await sleep(250);
    expect(await b.acquire('ttl', 5000)).toBe(true);
    await b.release('ttl');
  });

  it('a holder whose lock expired and was taken over never releases the new holder (compare-and-delete)', async () => {
    const a = createRedisLock(redis, { prefix });
    const b = createRedisLock(redis, { prefix });
    expect(await a.acquire('stale', 100)).toBe(true);
    await sleep(200);
    expect(await b.acquire('stale', 5000)).toBe(true);
    await a.release('stale');
    expect(await redis.exists(`${prefix}lock:stale`)).toBe(1);
    expect(await a.acquire('stale', 5000)).toBe(false);
    // releasing a key this instance never took is a no-op
    await a.release('never-taken');
    await b.release('stale');
    expect(await redis.exists(`${prefix}lock:stale`)).toBe(0);
  });

  it('exactly one of many concurrent contenders wins', async () => {
    const locks = Array.from({ length: 20 }, (_, i) => createRedisLock(i % 2 ? redis : other, { prefix }));
    const results = await Promise.all(locks.map((lock) => lock.acquire('race', 5000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    await locks[results.indexOf(true)]?.release('race');
  });

  it('holds a never-released key (back-channel jti) for its whole window', async () => {
    const a = createRedisLock(redis, { prefix });
    expect(await a.acquire('logout-jti:x', 60_000)).toBe(true);
    expect(await createRedisLock(other, { prefix }).acquire('logout-jti:x', 60_000)).toBe(false);
    expect(await redis.pTTL(`${prefix}lock:logout-jti:x`)).toBeGreaterThan(59_000);
  });

  it('fails with ERR_OIDC_STORE_UNAVAILABLE (503) when Redis fails or does not answer in time', async () => {
    const failing = createRedisLock({ eval: () => Promise.reject(new Error('ECONNREFUSED')) }, { prefix });
    await expect(failing.acquire('k', 1000)).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE', status: 503 });
    const hanging = createRedisLock({ eval: () => new Promise(() => undefined) }, { prefix, timeoutMs: 100 });
    const started = Date.now();
    await expect(hanging.acquire('k', 1000)).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('a real client that is not connected fails fast and clearly', async () => {
    const { createClient } = await import('redis');
    const offline = createClient({ url: 'redis://127.0.0.1:6379', disableOfflineQueue: true });
    const lock = createRedisLock(offline, { prefix });
    await expect(lock.acquire('k', 1000)).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE', cause: expect.objectContaining({ message: expect.stringMatching(/closed/i) }) });
  });

  it('works the same over a RESP3 connection', async () => {
    const { createClient } = await import('redis');
    const resp3 = createClient({ url: 'redis://127.0.0.1:6379', RESP: 3 });
    resp3.on('error', () => undefined);
    await resp3.connect();
    try {
      const a = createRedisLock(resp3, { prefix });
      expect(await a.acquire('resp3', 5000)).toBe(true);
      expect(await a.acquire('resp3', 5000)).toBe(false);
      await a.release('resp3');
      expect(await redis.exists(`${prefix}lock:resp3`)).toBe(0);
    } finally {
      await resp3.close();
    }
  });

  it('validates its arguments once, naming the option', () => {
    expect(() => createRedisLock(null as unknown as RedisScriptClient, { prefix })).toThrow(/createRedisLock\(\): the first argument/);
    expect(() => createRedisLock(redis, { prefix: 42 } as never)).toThrow(/"prefix"/);
    expect(() => createRedisLock(redis, { prefix, timeoutMs: Number.NaN })).toThrow(/"timeoutMs"/);
  });
});
