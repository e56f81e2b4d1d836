/**
 * Issue 12, defect 7, against the real Redis the soak used: cookie-less GET /login used to leave one key
 * per request with the session's whole TTL (connect-redis: a day). Each such key must now expire with
 * `transactionTtl`; a completed login still gets the app's own lifetime. Express 5, Express 4 (connect-redis)
 * and Koa (koa-session with a Redis store).
 */
import { RedisStore } from 'connect-redis';
import express5 from 'express';
import express4 from 'express4';
import session from 'express-session';
import type { RequestListener } from 'node:http';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oidc } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { koaRedisStore } from '../helpers/koa-redis-store.js';
import { ADAPTERS, localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import type { Adapter } from '../helpers/rp-app.js';
import { createKoaRpApp } from '../helpers/rp-koa-app.js';
import { connectTestRedis, deletePrefix, keysUnder, runPrefix } from './helpers/redis.js';
import type { TestRedis } from './helpers/redis.js';

const TTL_SEC = 60;
const KOA_MAX_AGE_MS = 3_600_000;
let op: HostileOp;
let redis: TestRedis;
const prefix = runPrefix('pending-login-ttl');

beforeAll(async () => {
  redis = await connectTestRedis();
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(async () => {
  await op?.close();
  if (redis?.isOpen) {
    await deletePrefix(redis, prefix);
    redis.destroy();
  }
});
beforeEach(() => op.reset());
afterEach(() => deletePrefix(redis, prefix));

/** The app as the soak ran it: sessions in Redis with the store's default lifetime (connect-redis: one day). */
function app(adapter: Adapter): RequestListener {
  const options = { issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, transactionTtl: TTL_SEC };
  if (adapter === 'koa') return createKoaRpApp(options, [], { session: { store: koaRedisStore(redis, prefix), maxAge: KOA_MAX_AGE_MS } }).app;
  const express = (adapter === 'express4' ? express4 : express5) as unknown as typeof express5;
  const server = express();
  server.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, name: 'sid', store: new RedisStore({ client: redis, prefix }) }));
  const auth = oidc(options);
  server.use(auth);
  server.get('/profile', auth.requireAuth(), (req, res) => res.json(req.user));
  return server as unknown as RequestListener;
}

async function ttls(): Promise<number[]> {
  return Promise.all((await keysUnder(redis, prefix)).map((key) => redis.pTTL(key)));
}

describe.each(ADAPTERS)('defect 7 with Redis (%s)', (adapter) => {
  it('200 cookie-less /login leave 200 keys that expire with transactionTtl, not with the session', async () => {
    const rp = app(adapter);
    for (let batch = 0; batch < 4; batch++) {
      await Promise.all(Array.from({ length: 50 }, () => request(rp).get('/login').query({ returnTo: '/' + 'a'.repeat(500) }).expect(302)));
    }
    const pending = await ttls();
    expect(pending).toHaveLength(200);
    // koa-session gives its store 10 s more than the cookie.
    const slack = adapter === 'koa' ? 10_000 : 0;
    for (const ttl of pending) {
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(TTL_SEC * 1000 + slack);
    }
  });

  it('the session of a completed login gets the app lifetime back', async () => {
    const rp = app(adapter);
    const agent = request.agent(rp);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    await agent.get('/profile').set('Accept', 'application/json').expect(200);
    const [ttl] = await ttls();
    const expected = adapter === 'koa' ? KOA_MAX_AGE_MS + 10_000 : 86_400_000;
    expect(ttl).toBeGreaterThan(expected - 60_000);
    expect(ttl).toBeLessThanOrEqual(expected);
  });
});
