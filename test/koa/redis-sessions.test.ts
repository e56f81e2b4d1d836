import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { koaRedisStore } from '../helpers/koa-redis-store.js';
import { connectTestRedis, deletePrefix, keysUnder, runPrefix } from '../redis/helpers/redis.js';
import type { TestRedis } from '../redis/helpers/redis.js';
import { localPath } from '../helpers/rp-app.js';
import type { TestRoute } from '../helpers/rp-app.js';
import { createKoaRpApp } from '../helpers/rp-koa-app.js';
import type { KoaRpApp } from '../helpers/rp-koa-app.js';

let op: HostileOp;
let redis: TestRedis;
const prefix = runPrefix('koa-sessions');

beforeAll(async () => {
  redis = await connectTestRedis();
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(async () => {
  await op?.close();
  if (redis?.isOpen) {
    await deletePrefix(redis, prefix);
    expect(await keysUnder(redis, prefix)).toEqual([]);
    redis.destroy();
  }
});
beforeEach(() => op.reset());
afterEach(() => deletePrefix(redis, prefix));

const TOKEN_ROUTE: TestRoute = {
  method: 'get',
  path: '/token',
  handler: async ({ oidc, query }) => ({ token: await oidc?.getAccessToken({ minTtl: Number(query.minTtl ?? 60) }) }),
};

/** One app instance (as in one process) with koa-session over the shared Redis. */
function instance(options: Record<string, unknown> = {}): KoaRpApp {
  return createKoaRpApp({ issuer: op.issuer, ...options }, [TOKEN_ROUTE], { session: { store: koaRedisStore(redis, prefix), maxAge: 3_600_000 } });
}

async function records(): Promise<Record<string, Record<string, unknown>>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const key of await keysUnder(redis, prefix)) out[key.slice(prefix.length)] = JSON.parse((await redis.get(key)) as string);
  return out;
}

async function login(rp: KoaRpApp) {
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  const anonymousKeys = Object.keys(await records());
  const done = await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return { agent, anonymousKeys, done };
}

describe('Koa sessions in Redis (koa-session external store over node-redis)', () => {
  it('keeps the login in Redis under a new key, with the cookie carrying the key only', async () => {
    const rp = instance();
    const { agent, anonymousKeys, done } = await login(rp);
    const stored = await records();
    expect(anonymousKeys).toHaveLength(1);
    expect(Object.keys(stored)).toHaveLength(1);
    const [key] = Object.keys(stored);
    expect(key).not.toBe(anonymousKeys[0]);
    expect(stored[key as string]).toMatchObject({ oidc: { auth: { sub: 'user-1', accessToken: expect.any(String) } } });
    const cookies = ([] as string[]).concat(done.headers['set-cookie'] ?? []).join('\n');
    expect(cookies).toContain(`sid=${key}`);
    expect(cookies).not.toMatch(/eyJ/);
    const ttl = await redis.pTTL(prefix + key);
    expect(ttl).toBeGreaterThan(3_600_000);
    expect(ttl).toBeLessThanOrEqual(3_610_000);
    await agent.get('/api/me').expect(200);
  });

  it('serves the session from another instance, and a logout there ends it everywhere', async () => {
    const a = instance();
    const b = instance();
    const { agent } = await login(a);
    const cookie = (await agent.jar.getCookies({ domain: '127.0.0.1', path: '/', secure: false, script: false })).map((c) => `${c.name}=${c.value}`).join('; ');
    const onB = await request(b.app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(onB.body.user.sub).toBe('user-1');
    await request(b.app).get('/logout').set('Cookie', cookie).expect(302);
    expect(await records()).toEqual({});
    await agent.get('/api/me').expect(401);
  });

  it('writes refreshed tokens to Redis and reads them back on the next request', async () => {
    op.behaviour.accessTokenTtl = 30;
    const rp = instance();
    const { agent } = await login(rp);
    const before = (Object.values(await records())[0] as { oidc: { auth: { accessToken: string; refreshToken: string } } }).oidc.auth;
    const { body } = await agent.get('/token').expect(200);
    const after = (Object.values(await records())[0] as { oidc: { auth: { accessToken: string; refreshToken: string } } }).oidc.auth;
    expect(body.token).toBe(after.accessToken);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect((await agent.get('/token?minTtl=10').expect(200)).body.token).toBe(after.accessToken);
  });

  it('does not bring the login back when a logout lands during a refresh', async () => {
    op.behaviour.accessTokenTtl = 30;
    op.behaviour.tokenDelayMs = 300;
    const rp = instance();
    const { agent } = await login(rp);
    const slow = agent.get('/token').then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await agent.get('/logout').expect(302);
    expect((await slow).status).toBe(401);
    expect(JSON.stringify(await records())).not.toMatch(/"auth"|accessToken|refreshToken/);
    await agent.get('/api/me').expect(401);
  });

  it('destroys the Redis record on back-channel logout', async () => {
    const rp = instance({ backchannelLogout: true });
    const { agent } = await login(rp);
    const other = await login(rp);
    const now = Math.floor(Date.now() / 1000);
    const token = await op.sign({
      iss: op.issuer, aud: 'rp', iat: now, exp: now + 120, jti: randomUUID(),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sid: op.logins[0]?.sid,
    });
    await request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: token }).expect(200);
    expect(Object.keys(await records())).toHaveLength(1);
    await agent.get('/api/me').expect(401);
    await other.agent.get('/api/me').expect(200);
  });
});
