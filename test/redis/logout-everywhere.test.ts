import { RedisStore } from 'connect-redis';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidc, resilientStore } from '../../lib/express/index.js';
import { createRedisLock, createRedisSessionIndex } from '../../lib/redis/index.js';
import { createTestIdp } from '../../lib/testing/index.js';
import type { TestIdp } from '../../lib/testing/index.js';
import { localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import { runPrefix } from './helpers/redis.js';
import { startPrivateRedis } from './helpers/redis-server.js';
import type { PrivateRedis } from './helpers/redis-server.js';

/*
 * logoutEverywhere() across two instances (two Express apps in this process) that share sessions in one
 * Redis and the session index in another, both redis-servers of this test's own: the index one is
 * stopped mid-test, which must not touch the Redis on 127.0.0.1:6379 other test files share.
 */
const TIMEOUT_MS = 500;
let sessionsRedis: PrivateRedis;
let indexRedis: PrivateRedis;
let idp: TestIdp;
const clients: Array<ReturnType<typeof createClient>> = [];
const prefix = runPrefix('everywhere');
const ended: string[] = [];

async function connect(url: string) {
  const client = createClient({ url, disableOfflineQueue: true, socket: { connectTimeout: 1000, reconnectStrategy: () => 100 } });
  client.on('error', () => undefined);
  await client.connect();
  clients.push(client);
  return client;
}

async function instance(name: string) {
  const store = await connect(sessionsRedis.url);
  const index = await connect(indexRedis.url);
  const app = express();
  app.use(session({ name: 'sid', secret: 'shared', resave: false, saveUninitialized: false, store: resilientStore(new RedisStore({ client: store, prefix: `${prefix}sess:` }), { timeoutMs: TIMEOUT_MS }) }));
  const auth = oidc({
    issuer: idp.issuer,
    clientId: 'rp',
    clientSecret: 'rp-secret',
    baseUrl: RP_BASE_URL,
    revokeTokens: false,
    lock: createRedisLock(index, { prefix: `${prefix}oidc:`, timeoutMs: TIMEOUT_MS }),
    sessionIndex: createRedisSessionIndex(index, { prefix: `${prefix}oidc:`, timeoutMs: TIMEOUT_MS }),
    onLogout: ({ user }) => {
      ended.push(`${name}:${String(user?.sub)}`);
    },
  });
  app.use(auth);
  app.get('/api/me', auth.requireAuth(), (req, res) => res.json({ instance: name, sub: req.user?.sub }));
  app.post('/logout-everywhere', async (req, res, next) => {
    try {
      res.json(await req.oidc?.logoutEverywhere());
    } catch (err) {
      next(err);
    }
  });
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    if (err.headers) res.set(err.headers);
    res.status(err.status ?? 500).json({ error: err.code ?? 'internal' });
  };
  app.use(onError);
  return { app, auth };
}

beforeAll(async () => {
  [sessionsRedis, indexRedis] = await Promise.all([startPrivateRedis(), startPrivateRedis()]);
  idp = await createTestIdp({ clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [`${RP_BASE_URL}/callback`] }] });
}, 30_000);

afterAll(async () => {
  for (const client of clients) client.destroy();
  await idp?.close();
  await Promise.all([sessionsRedis?.dispose(), indexRedis?.dispose()]);
});

async function loginOn(app: express.Express, user: string): Promise<request.Agent> {
  const agent = request.agent(app);
  const start = await agent.get('/login').expect(302);
  const back = await idp.login(start.headers.location as string, { username: user, password: user });
  await agent.get(localPath(back.url)).expect(302);
  return agent;
}

/** The same browser (cookie) sent to the other instance, as a load balancer would. */
function sameCookie(from: request.Agent, to: express.Express) {
  const cookie = (from as unknown as { jar: { getCookie(name: string, access: unknown): { toValueString(): string } | undefined } }).jar
    .getCookie('sid', { domain: '127.0.0.1', path: '/', secure: false, script: false })
    ?.toValueString();
  return (path: string) => request(to).get(path).set('Cookie', cookie as string);
}

describe('logoutEverywhere() with Redis, two instances', () => {
  it('ends the user\'s sessions created on either instance; another user stays logged in', async () => {
    ended.length = 0;
    const a = await instance('A');
    const b = await instance('B');
    const onA = await loginOn(a.app, 'alice');
    const onB = await loginOn(b.app, 'alice');
    const bob = await loginOn(a.app, 'bob');
    await sameCookie(onA, b.app)('/api/me').expect(200);
    expect(await b.auth.sessions.list({ sub: 'alice', iss: idp.issuer })).toHaveLength(2);
    const res = await onB.post('/logout-everywhere').expect(200);
    expect(res.body.destroyed).toBe(2);
    await onA.get('/api/me').expect(401);
    await sameCookie(onA, b.app)('/api/me').expect(401);
    await onB.get('/api/me').expect(401);
    await bob.get('/api/me').expect(200);
    expect(ended.sort()).toEqual(['B:alice', 'B:alice']);
    expect(await a.auth.sessions.list({ sub: 'alice', iss: idp.issuer })).toEqual([]);
  });

  it('the index Redis down: 503 ERR_OIDC_STORE_UNAVAILABLE in bounded time, nothing ended; works once it is back', async () => {
    ended.length = 0;
    const a = await instance('A');
    const b = await instance('B');
    const first = await loginOn(a.app, 'alice');
    const second = await loginOn(b.app, 'alice');
    await indexRedis.stop();
    try {
      const started = Date.now();
      const res = await second.post('/logout-everywhere');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
      expect(res.headers['retry-after']).toBe('1');
      expect(Date.now() - started).toBeLessThan(TIMEOUT_MS * 4);
      expect(ended).toEqual([]);
      // Guarded requests do not need the index: both sessions are still logged in.
      await first.get('/api/me').expect(200);
      await second.get('/api/me').expect(200);
      await expect(a.auth.sessions.list({ sub: 'alice', iss: idp.issuer })).rejects.toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE' });
    } finally {
      await indexRedis.start();
    }
    let retried: request.Response | undefined;
    for (let i = 0; i < 40 && retried?.status !== 200; i++) {
      retried = await second.post('/logout-everywhere');
      if (retried.status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(retried?.status).toBe(200);
    expect(retried?.body.destroyed).toBe(2);
    await first.get('/api/me').expect(401);
  }, 20_000);
});
