import { RedisStore } from 'connect-redis';
import express from 'express';
import type { ErrorRequestHandler } from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidc, resilientStore } from '../../lib/express/index.js';
import { createRedisLock } from '../../lib/redis/index.js';
import { createTestIdp } from '../../lib/testing/index.js';
import type { TestIdp } from '../../lib/testing/index.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import { runPrefix } from './helpers/redis.js';
import { startPrivateRedis } from './helpers/redis-server.js';
import type { PrivateRedis } from './helpers/redis-server.js';

/*
 * Issue 18, store side: refresh tokens redeemed at the IdP (oidc-provider, rotation on: presenting the
 * old refresh token again revokes the grant) while Redis cannot take the answer. The answer must be kept
 * and saved when Redis is back, so nobody is logged out. Redis of its own (stopped and started again with
 * its data, or hung with CLIENT PAUSE), the README's several-instances wiring, Express 5.
 */
const USERS = 5;
const STORE_TIMEOUT_MS = 300;
let redis: PrivateRedis;
let idp: TestIdp;
let proxy: FaultProxy;
let client: ReturnType<typeof createClient>;
const logs: string[] = [];
let offset = 0;
let app: express.Express;

beforeAll(async () => {
  redis = await startPrivateRedis();
  idp = await createTestIdp({
    clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [`${RP_BASE_URL}/callback`] }],
    accessTokenTtl: 30,
    rotateRefreshTokens: true,
  });
  proxy = await startFaultProxy(idp.issuer);
  client = createClient({
    url: redis.url,
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 500) },
  });
  client.on('error', () => undefined);
  await client.connect();
  const prefix = runPrefix('refresh-store-outage');
  app = express();
  app.use(session({ name: 'sid', secret: 's', resave: false, saveUninitialized: false, store: resilientStore(new RedisStore({ client, prefix: `${prefix}sess:` }), { timeoutMs: STORE_TIMEOUT_MS }) }));
  const log = (level: string) => (message: string) => logs.push(`${level} ${message}`);
  const auth = oidc({
    issuer: idp.issuer,
    clientId: 'rp',
    clientSecret: 'rp-secret',
    baseUrl: RP_BASE_URL,
    httpTimeout: 1000,
    customFetch: proxy.fetchVia(idp.issuer),
    clock: () => Date.now() + offset,
    lock: createRedisLock(client, { prefix: `${prefix}oidc:`, timeoutMs: STORE_TIMEOUT_MS }),
    logger: { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') },
  });
  app.use(auth);
  app.get('/page', auth.requireAuth(), (req, res) => {
    res.json({ token: req.oidc?.accessToken, refreshError: req.oidc?.refreshError?.code ?? null });
  });
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    res.status(err.status ?? 500).json({ error: err.code ?? 'internal' });
  };
  app.use(onError);
}, 30_000);

afterAll(async () => {
  await proxy?.close();
  await idp?.close();
  client?.destroy();
  await redis?.dispose();
});

async function login(): Promise<request.Agent> {
  const agent = request.agent(app);
  const start = await agent.get('/login').expect(302);
  const back = await idp.login(start.headers.location as string, { username: 'alice', password: 'alice' });
  await agent.get(localPath(back.url)).expect(302);
  return agent;
}

async function until200(agent: request.Agent, withinMs: number): Promise<request.Response> {
  const started = Date.now();
  for (;;) {
    const res = await agent.get('/page');
    if (res.status === 200) return res;
    if (Date.now() - started > withinMs) throw new Error(`still ${res.status} after ${withinMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('refresh answers that the store could not take (Redis, oidc-provider with rotation)', () => {
  const stop = (): Promise<void> => redis.stop();
  const start = (): Promise<void> => redis.start();
  const pause = async (): Promise<void> => void (await redis.command('CLIENT PAUSE 2500 ALL'));
  const pauseOver = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2600));
  it.each([
    ['stopped and restarted with its data', stop, start],
    ['hung (CLIENT PAUSE)', pause, pauseOver],
  ] as const)('Redis %s while the IdP answers: kept, saved when Redis is back, 0 logins lost, nothing redeemed twice', async (_name, down, up) => {
    const agents: request.Agent[] = [];
    for (let i = 0; i < USERS; i++) agents.push(await login());
    const tokensBefore = (await Promise.all(agents.map((a) => a.get('/page')))).map((r) => r.body.token as string);
    const redemptions = idp.counters.token;
    const unsavedBefore = logs.filter((line) => line.includes('could not be saved')).length;
    offset += 31_000;
    // The refreshes reach a paused IdP; the requests are answered with the current tokens meanwhile.
    await proxy.hold();
    const waiting = await Promise.all(agents.map((a) => a.get('/page')));
    expect(waiting.map((r) => [r.status, r.body.refreshError])).toEqual(Array(USERS).fill([200, 'ERR_OIDC_IDP_TIMEOUT']));
    await down();
    await proxy.resume();
    // The IdP redeems (and rotates) every refresh token, but the store cannot take the answers.
    await expect.poll(() => logs.filter((line) => line.includes('could not be saved')).length - unsavedBefore, { timeout: 8000 }).toBe(USERS);
    expect(idp.counters.token - redemptions).toBe(USERS);
    await up();
    const back = await Promise.all(agents.map((a) => until200(a, 10_000)));
    expect(back.every((r) => r.body.refreshError === null)).toBe(true);
    expect(back.every((r, i) => r.body.token !== tokensBefore[i])).toBe(true);
    expect(idp.counters.token - redemptions).toBe(USERS);
    // The saved refresh tokens are the live ones: the next refresh works for everyone (rotation would
    // have revoked the grant had the old one been presented again).
    offset += 31_000;
    const next = await Promise.all(agents.map((a) => a.get('/page')));
    expect(next.map((r) => [r.status, r.body.refreshError])).toEqual(Array(USERS).fill([200, null]));
    expect(idp.counters.token - redemptions).toBe(USERS * 2);
    console.log(`[measure] Redis ${_name} during ${USERS} refreshes (rotation on): logins lost 0, redemptions ${idp.counters.token - redemptions} for ${USERS} users x 2 rounds`);
  }, 40_000);
});
