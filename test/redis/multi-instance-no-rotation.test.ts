import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, json } from './helpers/browser.js';
import { startTwoInstances } from './helpers/instances.js';
import type { TwoInstances } from './helpers/instances.js';
import { connectTestRedis, deletePrefix, REDIS_URL, runPrefix } from './helpers/redis.js';
import type { TestRedis } from './helpers/redis.js';

/*
 * Issue 12 defect 1 across instances: an IdP that does not rotate refresh tokens (Google, Okta and Auth0
 * without rotation). The refresh token stays the same, so the instance that did not redeem must notice
 * the refresh by the new access token, not wait for a new refresh token (and then redeem again).
 */
let redis: TestRedis;
let apps: TwoInstances;
const prefix = runPrefix('multi-norot');
const TOKEN_DELAY_MS = 300;

beforeAll(async () => {
  redis = await connectTestRedis();
  apps = await startTwoInstances({ url: REDIS_URL, prefix, timeoutMs: 2000, tokenDelayMs: TOKEN_DELAY_MS }, { accessTokenTtl: 30, rotateRefreshTokens: false });
}, 30_000);

afterAll(async () => {
  await apps?.close();
  if (redis) {
    await deletePrefix(redis, prefix);
    await redis.close();
  }
});

describe('two instances, IdP without refresh-token rotation', () => {
  it('50 concurrent expired-token requests across A and B: one refresh at the IdP, every handler sees the new token', async () => {
    const browser = new Browser();
    const start = await browser.get(`${apps.a.url}/login`);
    const back = await apps.idp.login(start.headers.get('location')!, { username: 'alice', password: 'alice' });
    expect((await browser.get(back.url)).status).toBe(302);
    const raw = async () => JSON.parse((await redis.get(`${prefix}sess:${browser.sessionId()}`)) as string).oidc.auth as { accessToken: string; refreshToken: string };
    const before = await raw();
    for (const app of [apps.a, apps.b]) expect((await fetch(`${app.url}/__test/advance?seconds=31`, { method: 'POST' })).status).toBe(200);
    apps.idp.resetCounters();
    const started = Date.now();
    const results = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const res = await browser.get(`${(i % 2 ? apps.b : apps.a).url}/api/me`);
        return { status: res.status, body: await json<{ accessToken?: string }>(res) };
      }),
    );
    const elapsed = Date.now() - started;
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(200));
    const after = await raw();
    expect(after.refreshToken).toBe(before.refreshToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    const seen = new Set(results.map((r) => r.body.accessToken));
    console.log(`[measure] no rotation, 50 concurrent expired-token requests on A and B: ${apps.idp.counters.token} refresh, ${seen.size} distinct token(s) seen, ${elapsed} ms`);
    expect(apps.idp.counters.token).toBe(1);
    expect(seen).toEqual(new Set([after.accessToken]));
  });
});
