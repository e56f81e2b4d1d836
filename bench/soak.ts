/**
 * `npm run soak` (not in CI: minutes long; loopback only): logged-in users with short-lived access tokens
 * browse an Express 5 app (express-session + connect-redis behind resilientStore, Redis lock, the
 * README's several-instances wiring) while the IdP (oidc-provider, createTestIdp) and Redis fail in
 * turn. Reports, per phase: answers by status (and how many went through with `refreshError`), latency,
 * logins lost, redemptions at the IdP; and heap after GC over time.
 *
 * Settings (environment): SOAK_USERS (default 60), SOAK_PHASE_S (default 15), SOAK_ROTATE (1/0, default
 * 1), SOAK_TOKEN_TTL_S (default 5), SOAK_HTTP_TIMEOUT_MS (default 5000, as oidc()). Run with node --expose-gc for
 * heap-after-GC figures (npm run soak does).
 */
import { RedisStore } from 'connect-redis';
import express from 'express';
import session from 'express-session';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from 'redis';
import { oidc, resilientStore } from '../lib/express/index.js';
import { createRedisLock } from '../lib/redis/index.js';
import { CookieJar, createTestIdp } from '../lib/testing/index.js';
import { startFaultProxy } from '../test/helpers/fault-proxy.js';
import { startPrivateRedis } from '../test/redis/helpers/redis-server.js';

const USERS = Number(process.env.SOAK_USERS ?? 60);
const PHASE_MS = Number(process.env.SOAK_PHASE_S ?? 15) * 1000;
const ROTATE = (process.env.SOAK_ROTATE ?? '1') !== '0';
const TOKEN_TTL = Number(process.env.SOAK_TOKEN_TTL_S ?? 5);
const HTTP_TIMEOUT_MS = Number(process.env.SOAK_HTTP_TIMEOUT_MS ?? 5000);
const THINK_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const out = (line: string) => process.stdout.write(line + '\n');

/** fetch with a cookie jar (the RP's session cookie), no redirects followed. */
async function jarFetch(jar: CookieJar, url: string, headers: Record<string, string> = {}): Promise<Response> {
  const cookie = jar.header(url);
  const res = await fetch(url, { redirect: 'manual', headers: { ...headers, ...(cookie ? { cookie } : {}) } });
  jar.capture(url, res);
  return res;
}

interface PhaseStats {
  name: string;
  answers: Map<string, number>;
  latencies: number[];
  lost: number;
  redemptions: number;
}

async function main(): Promise<void> {
  const redis = await startPrivateRedis();
  const rpServer = createServer();
  await new Promise<void>((resolve) => rpServer.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(rpServer.address() as AddressInfo).port}`;
  const idpOptions = {
    clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [`${base}/callback`], post_logout_redirect_uris: [`${base}/`] }],
    accessTokenTtl: TOKEN_TTL,
    rotateRefreshTokens: ROTATE,
  };
  let idp = await createTestIdp(idpOptions);
  // Token requests of IdPs stopped earlier (a restarted IdP counts from 0).
  let retiredTokenCalls = 0;
  const tokenRequests = () => retiredTokenCalls + idp.counters.token;
  const proxy = await startFaultProxy(idp.issuer);
  const client = createClient({ url: redis.url, disableOfflineQueue: true, socket: { connectTimeout: 2000, reconnectStrategy: (n) => Math.min(50 * 2 ** n, 1000) } });
  client.on('error', () => undefined);
  await client.connect();
  const warnings = new Map<string, number>();
  const note = (message: string) => warnings.set(message, (warnings.get(message) ?? 0) + 1);
  const app = express();
  app.use(session({ name: 'sid', secret: 'soak', resave: false, saveUninitialized: false, cookie: { sameSite: 'lax' }, store: resilientStore(new RedisStore({ client, prefix: 'soak:sess:' }), { timeoutMs: 500 }) }));
  const auth = oidc({
    issuer: idp.issuer,
    clientId: 'rp',
    clientSecret: 'rp-secret',
    baseUrl: base,
    httpTimeout: HTTP_TIMEOUT_MS,
    customFetch: proxy.fetchVia(idp.issuer),
    lock: createRedisLock(client, { prefix: 'soak:oidc:', timeoutMs: 500 }),
    logger: { debug: () => undefined, info: () => undefined, warn: note, error: note },
  });
  app.use(auth);
  app.get('/page', auth.requireAuth(), (req, res) => {
    res.json({ stale: req.oidc?.refreshError !== undefined });
  });
  app.use(((err, _req, res, _next) => {
    // express-session reports a failed end-of-request save after the answer went out (store down).
    if (res.headersSent) return note(`error after the answer was sent: ${err.code ?? err.message}`);
    res.status(err.status ?? 500).json({ error: err.code ?? 'internal' });
  }) as express.ErrorRequestHandler);
  rpServer.on('request', app);

  async function login(): Promise<CookieJar> {
    const jar = new CookieJar();
    const start = await jarFetch(jar, `${base}/login`);
    await start.arrayBuffer();
    const back = await idp.login(start.headers.get('location') as string, { username: 'alice', password: 'alice' });
    const done = await jarFetch(jar, back.url);
    await done.arrayBuffer();
    if (done.status !== 302) throw new Error(`login failed: ${done.status}`);
    return jar;
  }

  out(`soak: ${USERS} users, ${TOKEN_TTL} s access tokens, rotation ${ROTATE ? 'on' : 'off'}, httpTimeout ${HTTP_TIMEOUT_MS} ms, phases of ${PHASE_MS / 1000} s`);
  const jars: CookieJar[] = [];
  for (let i = 0; i < USERS; i++) jars.push(await login());

  let phase: PhaseStats = { name: 'warm-up', answers: new Map(), latencies: [], lost: 0, redemptions: 0 };
  const phases: PhaseStats[] = [];
  let running = true;
  const browse = async (i: number): Promise<void> => {
    while (running) {
      const started = performance.now();
      const current = phase;
      let key: string;
      try {
        const res = await jarFetch(jars[i] as CookieJar, `${base}/page`, { accept: 'application/json' });
        const body = (await res.json().catch(() => ({}))) as { stale?: boolean; error?: string };
        key = res.status === 200 ? (body.stale ? '200 stale' : '200') : `${res.status} ${body.error ?? ''}`.trim();
      } catch (err) {
        key = `client error ${(err as Error).message}`;
      }
      current.answers.set(key, (current.answers.get(key) ?? 0) + 1);
      current.latencies.push(performance.now() - started);
      await sleep(THINK_MS * (0.5 + Math.random()));
    }
  };
  const heap: Array<[number, number]> = [];
  const t0 = Date.now();
  const sampler = setInterval(() => {
    (globalThis as { gc?: () => void }).gc?.();
    heap.push([Math.round((Date.now() - t0) / 1000), process.memoryUsage().heapUsed]);
  }, 5000);
  const workers = jars.map((_jar, i) => browse(i));

  const runPhase = async (name: string, fault?: () => Promise<void>, heal?: () => Promise<void>): Promise<void> => {
    phases.push(phase);
    phase = { name, answers: new Map(), latencies: [], lost: 0, redemptions: 0 };
    const tokenCalls = tokenRequests();
    await fault?.();
    await sleep(PHASE_MS);
    await heal?.();
    // Recovery: let refreshes resume, then count the users who are not logged in any more.
    await sleep(Math.max(3000, HTTP_TIMEOUT_MS * 3));
    for (let i = 0; i < jars.length; i++) {
      let res: Response | undefined;
      for (let attempt = 0; attempt < 3 && !res; attempt++) {
        res = await jarFetch(jars[i] as CookieJar, `${base}/page`, { accept: 'application/json' }).catch(() => undefined);
      }
      await res?.arrayBuffer();
      if (res?.status === 401) {
        phase.lost += 1;
        jars[i] = await login();
      }
    }
    phase.redemptions = tokenRequests() - tokenCalls;
  };

  await sleep(PHASE_MS);
  await runPhase('normal');
  await runPhase('IdP refusing connections', () => proxy.refuse(), () => proxy.resume());
  await runPhase('normal');
  await runPhase('IdP paused (requests held, processed on resume)', () => proxy.hold(), () => proxy.resume());
  await runPhase('normal');
  const port = Number(new URL(idp.issuer).port);
  await runPhase(
    'IdP stopped, restarted with its state',
    async () => {
      retiredTokenCalls += idp.counters.token;
      await idp.close();
      await proxy.refuse();
    },
    async () => {
      idp = await createTestIdp({ ...idpOptions, port, keys: [...idp.signingKeys], store: idp.store });
      await proxy.resume();
    },
  );
  await runPhase('Redis stopped, restarted with its data', () => redis.stop(), () => redis.start());
  await runPhase('Redis hung (CLIENT PAUSE)', async () => void (await redis.command(`CLIENT PAUSE ${PHASE_MS} ALL`)));
  await runPhase('normal');
  phases.push(phase);
  running = false;
  await Promise.all(workers);
  clearInterval(sampler);

  out('\n| phase | requests | answers | p50 ms | p99 ms | max ms | logins lost | token requests at IdP |');
  out('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const p of phases.slice(1)) {
    const sorted = [...p.latencies].sort((a, b) => a - b);
    const q = (f: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * f))] ?? 0);
    const answers = [...p.answers].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}: ${v}`).join(', ');
    out(`| ${p.name} | ${sorted.length} | ${answers} | ${q(0.5)} | ${q(0.99)} | ${Math.round(sorted.at(-1) ?? 0)} | ${p.lost} | ${p.redemptions} |`);
  }
  out('\nheap after GC (MiB) every 5 s: ' + heap.map(([, bytes]) => (bytes / 1048576).toFixed(1)).join(' '));
  out('warnings logged: ' + ([...warnings].map(([m, n]) => `${n} x "${m}"`).join('; ') || 'none'));

  await proxy.close();
  await idp.close();
  client.destroy();
  rpServer.closeAllConnections();
  rpServer.close();
  await redis.dispose();
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
