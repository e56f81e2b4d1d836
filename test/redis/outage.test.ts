import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, json } from './helpers/browser.js';
import { startTwoInstances } from './helpers/instances.js';
import type { TwoInstances } from './helpers/instances.js';
import { runPrefix } from './helpers/redis.js';
import { startPrivateRedis } from './helpers/redis-server.js';
import type { PrivateRedis } from './helpers/redis-server.js';

/*
 * Redis goes away under two running instances: first it hangs (CLIENT PAUSE), then it really stops and
 * starts again. This uses a redis-server of its own (see redis-server.ts) so that the other test files,
 * which share 127.0.0.1:6379, never see the outage.
 */
const TIMEOUT_MS = 500;
let server: PrivateRedis | undefined;
let apps: TwoInstances | undefined;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  server = await startPrivateRedis();
  apps = await startTwoInstances({ url: server.url, prefix: runPrefix('outage'), timeoutMs: TIMEOUT_MS });
}, 30_000);

afterAll(async () => {
  await apps?.close();
  await server?.dispose();
});

async function login(via: string): Promise<Browser> {
  const browser = new Browser();
  const start = await browser.get(`${via}/login`);
  expect(start.status).toBe(302);
  const back = await apps!.idp.login(start.headers.get('location')!, { username: 'alice', password: 'alice' });
  expect((await browser.get(back.url)).status).toBe(302);
  return browser;
}

async function timed(browser: Browser, url: string): Promise<{ status: number; error: unknown; retryAfter: string | null; ms: number }> {
  const started = Date.now();
  const res = await browser.get(url);
  const body = (await res.json().catch(() => ({}))) as { error?: unknown };
  return { status: res.status, error: body.error, retryAfter: res.headers.get('retry-after'), ms: Date.now() - started };
}

async function until200(browser: Browser, url: string, withinMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const res = await browser.get(url);
    await res.arrayBuffer();
    if (res.status === 200) return Date.now() - started;
    if (Date.now() - started > withinMs) throw new Error(`${url} still answers ${res.status} after ${withinMs} ms`);
    await sleep(100);
  }
}

describe('Redis outage under two instances', () => {
  it('a hanging Redis: guarded requests answer 503 ERR_OIDC_STORE_UNAVAILABLE after timeoutMs, then work again', async () => {
    const { a, b } = apps!;
    const browser = await login(a.url);
    expect((await browser.get(`${b.url}/api/me`)).status).toBe(200);
    expect(await server!.command('CLIENT PAUSE 1500 ALL')).toBe('+OK');
    const paused = Date.now();
    const results = await Promise.all([timed(browser, `${a.url}/api/me`), timed(browser, `${b.url}/api/me`)]);
    for (const r of results) {
      expect(r).toMatchObject({ status: 503, error: 'ERR_OIDC_STORE_UNAVAILABLE', retryAfter: '1' });
      expect(r.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(r.ms).toBeLessThan(TIMEOUT_MS + 700);
    }
    console.log(`[measure] Redis paused: 503 after ${results.map((r) => r.ms).join(' / ')} ms (A / B), timeoutMs ${TIMEOUT_MS}`);
    await sleep(Math.max(0, paused + 1600 - Date.now()));
    const recovered = await until200(browser, `${a.url}/api/me`, 3000);
    expect((await browser.get(`${b.url}/api/me`)).status).toBe(200);
    console.log(`[measure] after the pause: 200 again ${recovered} ms later`);
  });

  it('a stopped Redis: 503 at once, a login in flight fails cleanly, no process exits, service resumes when Redis is back', async () => {
    const { a, b, idp } = apps!;
    const browser = await login(a.url);
    // a login in flight: the IdP is about to send the browser back to /callback
    const inFlight = new Browser();
    const start = await inFlight.get(`${a.url}/login`);
    const back = await idp.login(start.headers.get('location')!, { username: 'alice', password: 'alice' });
    const tokenCalls = idp.counters.token;

    await server!.stop();
    const down = await Promise.all([timed(browser, `${a.url}/api/me`), timed(browser, `${b.url}/api/me`), timed(browser, `${a.url}/`)]);
    for (const r of down) {
      expect(r).toMatchObject({ status: 503, error: 'ERR_OIDC_STORE_UNAVAILABLE' });
      expect(r.ms).toBeLessThan(TIMEOUT_MS + 500);
    }
    console.log(`[measure] Redis stopped: 503 after ${down.map((r) => r.ms).join(' / ')} ms (A guarded / B guarded / A public page with the cookie)`);

    const callback = await timed(inFlight, back.url);
    expect(callback).toMatchObject({ status: 503, error: 'ERR_OIDC_STORE_UNAVAILABLE' });
    expect(idp.counters.token).toBe(tokenCalls);
    const newLogin = await new Browser().get(`${b.url}/login`);
    expect(newLogin.status).toBe(503);
    expect(newLogin.headers.get('location')).toBeNull();
    // requests that need no session are served as usual
    expect((await new Browser().get(`${a.url}/`)).status).toBe(200);
    expect((await new Browser().get(`${b.url}/api/me`)).status).toBe(401);
    // ~2 s of outage, long enough for the clients' reconnect back-off to grow: every request still answers at once
    const stoppedAt = Date.now();
    const during: number[] = [];
    while (Date.now() - stoppedAt < 2000) {
      const r = await timed(browser, `${(during.length % 2 ? b : a).url}/api/me`);
      expect(r).toMatchObject({ status: 503, error: 'ERR_OIDC_STORE_UNAVAILABLE' });
      during.push(r.ms);
      await sleep(100);
    }
    console.log(`[measure] during the outage: ${during.length} requests, all 503, slowest ${Math.max(...during)} ms`);
    expect(a.alive() && b.alive()).toBe(true);

    await server!.start();
    const restarted = Date.now();
    const recoveredA = await until200(browser, `${a.url}/api/me`, 8000);
    const recoveredB = await until200(browser, `${b.url}/api/me`, 8000);
    console.log(`[measure] Redis restarted: the same session answers 200 again after ${recoveredA} ms on A, ${Date.now() - restarted} ms on B (${recoveredB} ms more)`);

    // the interrupted login left nothing half-done: its callback, tried again, completes it
    const retried = await inFlight.get(back.url);
    expect(retried.status).toBe(302);
    expect(idp.counters.token).toBe(tokenCalls + 1);
    expect(await json(await inFlight.get(`${b.url}/api/me`))).toMatchObject({ user: { sub: 'alice' } });
    expect(a.alive() && b.alive()).toBe(true);
    expect(a.stderr()).toMatch(/redis: /);
  });
});
