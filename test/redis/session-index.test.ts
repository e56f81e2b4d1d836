import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisSessionIndex } from '../../lib/redis/index.js';
import type { RedisScriptClient } from '../../lib/redis/index.js';
import { connectTestRedis, deletePrefix, keysUnder, runPrefix } from './helpers/redis.js';
import type { TestRedis } from './helpers/redis.js';

let redis: TestRedis;
const prefix = runPrefix('index');
const ISS = 'https://idp.example/tenant|1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  redis = await connectTestRedis();
});
afterAll(async () => {
  if (!redis) return;
  await deletePrefix(redis, prefix);
  expect(await keysUnder(redis, prefix)).toEqual([]);
  await redis.close();
});

/** Records what the index sends, to check key names and that no call spans two keys. */
function recording(): { client: RedisScriptClient; calls: Array<{ script: string; keys: string[] }> } {
  const calls: Array<{ script: string; keys: string[] }> = [];
  return {
    calls,
    client: {
      eval: (script, options) => {
        calls.push({ script, keys: options.keys });
        return redis.eval(script, options);
      },
    },
  };
}

describe('createRedisSessionIndex', () => {
  it('finds sessions by (iss, sid) and by (iss, sub), and forgets removed ones', async () => {
    const p = prefix + 'a:';
    const index = createRedisSessionIndex(redis, { prefix: p });
    await index.add({ iss: ISS, sub: 'alice', sid: 'sid-1' }, 'session-1', 60);
    await index.add({ iss: ISS, sub: 'alice', sid: 'sid-2' }, 'session-2', 60);
    await index.add({ iss: ISS, sub: 'bob', sid: 'sid-3' }, 'session-3', 60);
    expect(await index.find({ iss: ISS, sid: 'sid-1' })).toEqual(['session-1']);
    expect((await index.find({ iss: ISS, sub: 'alice' })).sort()).toEqual(['session-1', 'session-2']);
    expect((await index.find({ iss: ISS, sid: 'sid-3', sub: 'alice' })).sort()).toEqual(['session-1', 'session-2', 'session-3']);
    expect(await index.find({ iss: 'https://other.example', sub: 'alice' })).toEqual([]);
    expect(await index.find({ iss: ISS })).toEqual([]);
    await index.remove({ iss: ISS, sub: 'alice', sid: 'sid-1' }, 'session-1');
    expect(await index.find({ iss: ISS, sid: 'sid-1' })).toEqual([]);
    expect(await index.find({ iss: ISS, sub: 'alice' })).toEqual(['session-2']);
    await index.remove({ iss: ISS, sub: 'alice', sid: 'sid-2' }, 'session-2');
    // an emptied sorted set disappears from Redis
    expect(await keysUnder(redis, p + 'sub:')).toEqual([`${p}sub:${encodeURIComponent(ISS)}|bob`]);
  });

  it('sessions without a sid are found by sub only', async () => {
    const index = createRedisSessionIndex(redis, { prefix: prefix + 'b:' });
    await index.add({ iss: ISS, sub: 'carol' }, 'session-c', 60);
    expect(await index.find({ iss: ISS, sub: 'carol' })).toEqual(['session-c']);
    expect(await keysUnder(redis, prefix + 'b:')).toEqual([`${prefix}b:sub:${encodeURIComponent(ISS)}|carol`]);
  });

  it('namespaces keys by prefix, never mixes up parts that contain the separator, and keeps one key per call', async () => {
    const p = prefix + 'c:';
    const { client, calls } = recording();
    const index = createRedisSessionIndex(client, { prefix: p });
    await index.add({ iss: 'a|b', sub: 'c' }, 'one', 60);
    await index.add({ iss: 'a', sub: 'b|c' }, 'two', 60);
    expect(await index.find({ iss: 'a|b', sub: 'c' })).toEqual(['one']);
    expect(await index.find({ iss: 'a', sub: 'b|c' })).toEqual(['two']);
    await expect(createRedisSessionIndex(redis, { prefix: prefix + 'other:' }).find({ iss: 'a', sub: 'b|c' })).resolves.toEqual([]);
    for (const call of calls) {
      expect(call.keys).toHaveLength(1);
      expect(call.keys[0]?.startsWith(p)).toBe(true);
      expect(call.script).not.toMatch(/'(SCAN|KEYS)'/i);
    }
  });

  it('sets the key to expire with the session, and a shorter add never shortens it', async () => {
    const p = prefix + 'd:';
    const index = createRedisSessionIndex(redis, { prefix: p });
    await index.add({ iss: ISS, sub: 'dave', sid: 's' }, 'long', 3600);
    const key = `${p}sub:${encodeURIComponent(ISS)}|dave`;
    expect(await redis.ttl(key)).toBeGreaterThan(3590);
    await index.add({ iss: ISS, sub: 'dave', sid: 's2' }, 'short', 10);
    expect(await redis.ttl(key)).toBeGreaterThan(3590);
    expect(await redis.ttl(`${p}sid:${encodeURIComponent(ISS)}|s2`)).toBeLessThanOrEqual(10);
  });

  it('expired entries are not found, are pruned on the next add, and the key expires with its last entry', async () => {
    const p = prefix + 'e:';
    const index = createRedisSessionIndex(redis, { prefix: p });
    const key = `${p}sub:${encodeURIComponent(ISS)}|erin`;
    await index.add({ iss: ISS, sub: 'erin' }, 'old', 1);
    await index.add({ iss: ISS, sub: 'erin' }, 'newer', 60);
    await index.add({ iss: ISS, sub: 'frank', sid: 'f' }, 'short-lived', 1);
    expect((await index.find({ iss: ISS, sub: 'erin' })).sort()).toEqual(['newer', 'old']);
    await sleep(2100);
    expect(await index.find({ iss: ISS, sub: 'erin' })).toEqual(['newer']);
    expect(await index.find({ iss: ISS, sid: 'f' })).toEqual([]);
    await index.add({ iss: ISS, sub: 'erin' }, 'newest', 60);
    expect((await redis.zRange(key, 0, -1)).sort()).toEqual(['newer', 'newest']);
    expect(await keysUnder(redis, `${p}sid:`)).toEqual([]);
  });

  it('fails with ERR_OIDC_STORE_UNAVAILABLE (503) when Redis fails or does not answer in time', async () => {
    const failing = createRedisSessionIndex({ eval: () => Promise.reject(new Error('ECONNREFUSED')) }, { prefix });
    await expect(failing.find({ iss: ISS, sub: 'x' })).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE', status: 503 });
    const hanging = createRedisSessionIndex({ eval: () => new Promise(() => undefined) }, { prefix, timeoutMs: 100 });
    const started = Date.now();
    await expect(hanging.add({ iss: ISS, sub: 'x' }, 'id', 60)).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE' });
    expect(Date.now() - started).toBeLessThan(1000);
    const throwing = createRedisSessionIndex({ eval: () => { throw new Error('The client is closed'); } }, { prefix });
    await expect(throwing.remove({ iss: ISS, sub: 'x' }, 'id')).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE' });
  });

  it('works the same over a RESP3 connection', async () => {
    const { createClient } = await import('redis');
    const resp3 = createClient({ url: 'redis://127.0.0.1:6379', RESP: 3 });
    resp3.on('error', () => undefined);
    await resp3.connect();
    try {
      const index = createRedisSessionIndex(resp3, { prefix: prefix + 'resp3:' });
      await index.add({ iss: ISS, sub: 'gina', sid: 'g' }, 'session-g', 60);
      expect(await index.find({ iss: ISS, sid: 'g' })).toEqual(['session-g']);
      await index.remove({ iss: ISS, sub: 'gina', sid: 'g' }, 'session-g');
      expect(await index.find({ iss: ISS, sub: 'gina' })).toEqual([]);
    } finally {
      await resp3.close();
    }
  });

  it('validates its arguments once, naming the option', () => {
    expect(() => createRedisSessionIndex({} as RedisScriptClient, { prefix })).toThrow(/createRedisSessionIndex\(\): the first argument/);
    expect(() => createRedisSessionIndex(redis, { prefix: '' })).toThrow(/"prefix"/);
    expect(() => createRedisSessionIndex(redis, undefined as never)).toThrow(/prefix/);
    expect(() => createRedisSessionIndex(redis, { prefix, timeoutMs: 0 })).toThrow(/"timeoutMs"/);
    expect(() => createRedisSessionIndex(redis, { prefix, ttl: 5 } as never)).toThrow(/unknown option "ttl"/);
  });
});
