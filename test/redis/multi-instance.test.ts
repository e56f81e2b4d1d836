import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../../lib/testing/index.js';
import { Browser, json } from './helpers/browser.js';
import { startTwoInstances } from './helpers/instances.js';
import type { TwoInstances } from './helpers/instances.js';
import { connectTestRedis, deletePrefix, keysUnder, REDIS_URL, runPrefix } from './helpers/redis.js';
import type { TestRedis } from './helpers/redis.js';

/*
 * Two real app processes (A and B) sharing the real Redis on 127.0.0.1:6379 through connect-redis,
 * createRedisSessionIndex and createRedisLock, and the in-process oidc-provider rotating refresh tokens.
 */
let redis: TestRedis;
let apps: TwoInstances;
const prefix = runPrefix('multi');
const TOKEN_DELAY_MS = 300;

interface Me {
  instance: string;
  user?: { sub: string; name?: string };
  accessToken?: string;
  error?: string;
}

beforeAll(async () => {
  redis = await connectTestRedis();
  // Token requests take TOKEN_DELAY_MS, so a refresh stays in flight while both instances see the expired token.
  apps = await startTwoInstances({ url: REDIS_URL, prefix, timeoutMs: 2000, tokenDelayMs: TOKEN_DELAY_MS }, { accessTokenTtl: 30 });
}, 30_000);

afterAll(async () => {
  await apps?.close();
  if (redis) {
    await deletePrefix(redis, prefix);
    await redis.close();
  }
});

async function login(username = 'alice', jar = new CookieJar(), via = apps.a.url): Promise<Browser> {
  const browser = new Browser();
  const start = await browser.get(`${via}/login`);
  expect(start.status).toBe(302);
  const back = await apps.idp.login(start.headers.get('location')!, { username, password: username }, jar);
  expect(back.method).toBe('GET');
  // The IdP redirects to A's URL (the public origin); the "load balancer" may hand it to either instance.
  const done = await browser.get(back.url.replace(apps.a.url, via));
  expect(done.status).toBe(302);
  return browser;
}

async function storedSession(browser: Browser): Promise<{ raw: string | null; auth?: { accessToken: string; refreshToken: string; idToken: string; sid?: string } }> {
  const raw = await redis.get(`${prefix}sess:${browser.sessionId()}`);
  return { raw, auth: raw ? (JSON.parse(raw) as { oidc?: { auth?: never } }).oidc?.auth : undefined };
}

describe('two instances sharing Redis', () => {
  it('a login through A is logged in on B with the same cookie', async () => {
    const browser = await login('alice');
    const onB = await browser.get(`${apps.b.url}/api/me`);
    expect(onB.status).toBe(200);
    expect(await json<Me>(onB)).toMatchObject({ instance: 'B', user: { sub: 'alice' } });
    const onA = await json<Me>(await browser.get(`${apps.a.url}/api/me`));
    expect(onA).toMatchObject({ instance: 'A', user: { sub: 'alice' } });

    // What one login costs in Redis: the session record and its two index entries.
    const { raw, auth } = await storedSession(browser);
    const sessionKey = `${prefix}sess:${browser.sessionId()}`;
    const indexKeys = await keysUnder(redis, `${prefix}oidc:s`);
    const memory = await Promise.all([sessionKey, ...indexKeys].map((key) => redis.memoryUsage(key)));
    const bytes = Buffer.byteLength(raw ?? '');
    console.log(`[measure] session bytes per login: ${bytes} (JSON in Redis; tokens ${Buffer.byteLength(auth!.accessToken + auth!.refreshToken + auth!.idToken)}), ` +
      `Redis MEMORY USAGE session ${memory[0]} B + index ${memory.slice(1).reduce((s, m) => s! + (m ?? 0), 0)} B (${indexKeys.length} keys)`);
    expect(indexKeys).toHaveLength(2);
    expect(bytes).toBeLessThan(8192);
  });

  it('a login started on A can finish on B (the pending login is in Redis too)', async () => {
    const browser = new Browser();
    const start = await browser.get(`${apps.a.url}/login`);
    const back = await apps.idp.login(start.headers.get('location')!, { username: 'bob', password: 'bob' });
    const onB = back.url.replace(apps.a.url, apps.b.url);
    expect((await browser.get(onB)).status).toBe(302);
    expect(await json<Me>(await browser.get(`${apps.a.url}/api/me`))).toMatchObject({ user: { sub: 'bob' } });
  });

  it('50 concurrent requests with an expired access token, split across A and B: one refresh at the IdP, all succeed, both see the new token', async () => {
    const browser = await login('alice');
    const before = (await storedSession(browser)).auth!;
    for (const app of [apps.a, apps.b]) expect((await fetch(`${app.url}/__test/advance?seconds=31`, { method: 'POST' })).status).toBe(200);
    apps.idp.resetCounters();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await browser.get(`${(i % 2 ? apps.b : apps.a).url}/api/me`);
        return { status: res.status, body: await json<Me>(res) };
      }),
    );
    const elapsed = Date.now() - started;
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    // the refresh really was in flight while the requests of both instances waited for it
    expect(elapsed).toBeGreaterThanOrEqual(TOKEN_DELAY_MS);
    expect(apps.idp.counters.token).toBe(1);
    const after = (await storedSession(browser)).auth!;
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(new Set(results.map((r) => r.body.accessToken))).toEqual(new Set([after.accessToken]));
    expect(new Set(results.map((r) => r.body.instance))).toEqual(new Set(['A', 'B']));
    for (const app of [apps.a, apps.b]) {
      expect((await json<Me>(await browser.get(`${app.url}/api/peek`))).accessToken).toBe(after.accessToken);
    }
    // Still fresh: nobody refreshes again, and the rotated refresh token was never redeemed twice.
    await browser.get(`${apps.b.url}/api/me`);
    expect(apps.idp.counters.token).toBe(1);
    console.log(`[measure] 50 concurrent expired-token requests (25 on A, 25 on B): ${apps.idp.counters.token} refresh, ${elapsed} ms in all`);
  });

  it('a back-channel logout delivered to A logs the session out on B at the next request', async () => {
    const jar = new CookieJar();
    // Logged in through B, so only the shared index can tell A which session the logout token means.
    const browser = await login('alice', jar, apps.b.url);
    const other = await login('bob');
    expect((await browser.get(`${apps.b.url}/api/me`)).status).toBe(200);
    const { auth } = await storedSession(browser);
    const endSession = new URL(`${apps.idp.issuer}/session/end`);
    endSession.searchParams.set('id_token_hint', auth!.idToken);
    apps.idp.resetCounters();
    await apps.idp.logout(endSession, jar);
    expect(apps.idp.counters.backchannel).toBe(1);
    const onB = await browser.get(`${apps.b.url}/api/me`);
    expect(onB.status).toBe(401);
    expect((await json<Me>(onB)).error).toBe('ERR_OIDC_UNAUTHENTICATED');
    expect((await storedSession(browser)).raw).toBeNull();
    expect(await keysUnder(redis, `${prefix}oidc:sid:`)).not.toContain(expect.stringContaining(encodeURIComponent(auth!.sid!)));
    expect((await other.get(`${apps.b.url}/api/me`)).status).toBe(200);
  });

  it('a logout on B ends the session on A', async () => {
    const browser = await login('alice');
    expect((await browser.get(`${apps.a.url}/api/me`)).status).toBe(200);
    const { auth } = await storedSession(browser);
    const out = await browser.get(`${apps.b.url}/logout`);
    expect(out.status).toBe(302);
    const onA = await browser.get(`${apps.a.url}/api/me`);
    expect(onA.status).toBe(401);
    expect((await storedSession(browser)).raw).toBeNull();
    expect(await redis.zRange(`${prefix}oidc:sid:${encodeURIComponent(apps.idp.issuer)}|${encodeURIComponent(auth!.sid!)}`, 0, -1)).toEqual([]);
  });

  it('no instance wrote outside its prefix, and both are still running', async () => {
    const keys = await keysUnder(redis, prefix);
    expect(keys.every((key) => key.startsWith(`${prefix}sess:`) || key.startsWith(`${prefix}oidc:`))).toBe(true);
    expect(apps.a.alive() && apps.b.alive()).toBe(true);
  });
});
