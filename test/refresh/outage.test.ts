import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import type { FaultProxy } from '../helpers/fault-proxy.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpApp, RpOptions, TestRoute } from '../helpers/rp-app.js';

/*
 * Issue 18 (an IdP outage must not log anyone out) and issue 12 defect 1 (every request that waited on a
 * refresh sees the refreshed tokens), on every adapter. The IdP is the hostile OP, reached through a TCP
 * fault proxy (refused connections, a held request that the IdP processes after we gave up); the RP's
 * clock is injected so that back-off pauses pass without waiting.
 */
let op: HostileOp;
let proxy: FaultProxy;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
  proxy = await startFaultProxy(op.issuer);
});
afterAll(async () => {
  await proxy.close();
  await op.close();
});
beforeEach(async () => {
  op.reset();
  op.behaviour.accessTokenTtl = 30;
  await proxy.resume();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const ROUTES: TestRoute[] = [
  {
    method: 'get',
    path: '/page',
    guard: {},
    handler: ({ oidc }) => ({ token: oidc?.accessToken, refreshError: oidc?.refreshError?.code ?? null }),
  },
  {
    method: 'get',
    path: '/token',
    handler: async ({ oidc }) => ({ token: await oidc?.getAccessToken({ minTtl: 0 }) }),
  },
];

interface Harness {
  rp: RpApp;
  agent: request.Agent;
  logs: string[];
  advance(seconds: number): void;
  stored(): Promise<{ accessToken: string; refreshToken: string; expiresAt?: number } | undefined>;
  refreshCalls(): number;
}

async function setup(adapter: Adapter, options: RpOptions = {}): Promise<Harness> {
  let offset = 0;
  const logs: string[] = [];
  const log = (level: string) => (message: string, fields?: Record<string, unknown>) => logs.push(`${level} ${message} ${JSON.stringify(fields ?? {})}`);
  const rp = createRp(
    adapter,
    {
      issuer: op.issuer,
      customFetch: proxy.fetchVia(op.issuer),
      clock: () => Date.now() + offset,
      logger: { debug: () => undefined, info: log('info'), warn: log('warn'), error: log('error') },
      ...options,
    },
    ROUTES,
  );
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return {
    rp,
    agent,
    logs,
    advance: (seconds) => {
      offset += seconds * 1000;
    },
    stored: async () => (Object.values(await rp.sessions())[0] as { oidc?: { auth?: never } } | undefined)?.oidc?.auth,
    refreshCalls: () => op.tokenCalls.filter((call) => call.grantType === 'refresh_token').length,
  };
}

describe.each(ADAPTERS)('refresh while the IdP fails (%s)', (adapter) => {
  it('IdP refusing connections: the request goes through with the stale token, flagged; back-off; recovery', async () => {
    const h = await setup(adapter);
    const before = await h.stored();
    h.advance(31);
    await proxy.refuse();
    const started = Date.now();
    const first = await h.agent.get('/page').expect(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(first.body).toEqual({ token: before?.accessToken, refreshError: 'ERR_OIDC_TOKEN_REQUEST_FAILED' });
    const connections = proxy.connections;
    // Within the back-off pause the IdP is not tried again, and APIs that need a fresh token get the IdP's error.
    for (let i = 0; i < 5; i++) expect((await h.agent.get('/page').expect(200)).body.refreshError).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    const api = await h.agent.get('/token');
    expect(api.status).toBe(502);
    expect(api.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    expect(proxy.connections).toBe(connections);
    expect(h.logs.filter((line) => line.startsWith('warn') && line.includes('failed to refresh'))).toHaveLength(1);
    expect(await h.stored()).toMatchObject({ accessToken: before?.accessToken });

    await proxy.resume();
    h.advance(2);
    const back = await h.agent.get('/page').expect(200);
    expect(back.body.refreshError).toBeNull();
    expect(back.body.token).not.toBe(before?.accessToken);
    expect((await h.stored())?.accessToken).toBe(back.body.token);
    expect(h.refreshCalls()).toBe(1);
    expect(h.logs.some((line) => line.startsWith('info') && line.includes('refreshes tokens again'))).toBe(true);
  });

  it('IdP answering 5xx: 200 with the stale token and refreshError; one IdP call per back-off pause', async () => {
    const h = await setup(adapter);
    h.advance(31);
    op.behaviour.tokenStatus = 503;
    const results = await Promise.all(Array.from({ length: 20 }, () => h.agent.get('/page')));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(new Set(results.map((r) => r.body.refreshError))).toEqual(new Set(['ERR_OIDC_TOKEN_REQUEST_FAILED']));
    const calls = op.counters.token;
    await h.agent.get('/page').expect(200);
    expect(op.counters.token).toBe(calls);
    h.advance(1.1);
    await h.agent.get('/page').expect(200);
    expect(op.counters.token).toBe(calls + 1);
    expect(await h.stored()).toBeDefined();
  });

  it('IdP refusing the refresh (invalid_grant) still ends the login', async () => {
    const h = await setup(adapter);
    h.advance(31);
    op.behaviour.refreshError = 'invalid_grant';
    const res = await h.agent.get('/page');
    expect(res.status).toBe(401);
    expect(await h.stored()).toBeUndefined();
  });

  it.each([true, false])('IdP paused past httpTimeout (rotation %s): answered in time, the late answer is saved, nothing redeemed twice, nobody logged out', async (rotate) => {
    op.behaviour.rotateRefreshToken = rotate;
    const h = await setup(adapter, { httpTimeout: 300 });
    const before = await h.stored();
    h.advance(31);
    await proxy.hold();
    const started = Date.now();
    const slow = await h.agent.get('/page').expect(200);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(slow.body).toEqual({ token: before?.accessToken, refreshError: 'ERR_OIDC_IDP_TIMEOUT' });
    // More requests while the redemption's outcome is unknown: answered at once, no second redemption.
    const more = await Promise.all(Array.from({ length: 10 }, () => h.agent.get('/page')));
    expect(more.every((r) => r.status === 200 && r.body.refreshError === 'ERR_OIDC_IDP_TIMEOUT')).toBe(true);
    await proxy.resume();
    await expect.poll(async () => (await h.stored())?.accessToken, { timeout: 5000 }).not.toBe(before?.accessToken);
    const after = await h.agent.get('/page').expect(200);
    expect(after.body.refreshError).toBeNull();
    expect(after.body.token).toBe((await h.stored())?.accessToken);
    expect(h.refreshCalls()).toBe(1);
    expect(op.tokenCalls.filter((c) => c.grantType === 'refresh_token' && c.result !== 'ok')).toHaveLength(0);
    expect(h.logs.filter((line) => line.includes('could not be saved'))).toEqual([]);
  });
});

/** The refresh responses real IdPs give (issue 12 defect 1: concurrent refresh, IdP without rotation). */
const IDP_VARIANTS: Array<[string, (b: HostileOp['behaviour']) => void]> = [
  ['rotation, new ID token (oidc-provider, Keycloak)', () => undefined],
  ['no rotation, no ID token (Google, Okta/Auth0 without rotation)', (b) => {
    b.rotateRefreshToken = false;
    b.refreshIssueIdToken = false;
  }],
  ['no rotation, new ID token without nonce', (b) => {
    b.rotateRefreshToken = false;
  }],
  ['no rotation, new ID token with nonce', (b) => {
    b.rotateRefreshToken = false;
    b.refreshIdToken = { claims: { nonce: 'n-0S6_WzA2Mj' } };
  }],
  ['no rotation, no expires_in', (b) => {
    b.rotateRefreshToken = false;
    b.tokenExtra = { expires_in: undefined };
  }],
];

describe.each(ADAPTERS)('issue 12 defect 1: 100 concurrent guarded requests on an expired session (%s)', (adapter) => {
  it.each(IDP_VARIANTS)('%s: one refresh at the IdP, every handler sees the refreshed token', async (_name, variant) => {
    const h = await setup(adapter);
    const before = await h.stored();
    h.advance(31);
    variant(op.behaviour);
    op.behaviour.tokenDelayMs = 100;
    const results = await Promise.all(Array.from({ length: 100 }, () => h.agent.get('/page')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    const stored = await h.stored();
    const seen = new Set(results.map((r) => r.body.token));
    console.log(`[measure] ${adapter} ${_name}: ${h.refreshCalls()} refresh call(s) at the IdP, ${seen.size} distinct access token(s) seen by 100 handlers`);
    expect(h.refreshCalls()).toBe(1);
    expect(stored?.accessToken).not.toBe(before?.accessToken);
    expect(seen).toEqual(new Set([stored?.accessToken]));
    // The next request uses the stored tokens, without another refresh.
    expect((await h.agent.get('/page').expect(200)).body.token).toBe(stored?.accessToken);
    expect(h.refreshCalls()).toBe(1);
  });
});

describe.each(ADAPTERS)('logout and callback while the IdP fails (%s)', (adapter) => {
  it('logout never waits for a hung IdP (revocation runs afterwards)', async () => {
    const h = await setup(adapter, { httpTimeout: 2000 });
    await proxy.hold();
    const started = Date.now();
    await h.agent.get('/logout').expect(302);
    expect(Date.now() - started).toBeLessThan(500);
    expect(JSON.stringify(await h.rp.sessions())).not.toMatch(/accessToken/);
    await h.agent.get('/page').expect(401);
    await proxy.resume();
    await expect.poll(() => op.counters.revocation, { timeout: 4000 }).toBe(2);
  });

  it('IdP logout with a hung IdP whose metadata is cached: the end-session redirect at once', async () => {
    const h = await setup(adapter, { idpLogout: true, httpTimeout: 2000 });
    await proxy.hold();
    const started = Date.now();
    const res = await h.agent.get('/logout').expect(302);
    expect(Date.now() - started).toBeLessThan(500);
    expect(res.headers.location).toMatch(new RegExp(`^${op.issuer}/end_session`));
    await proxy.resume();
  });

  it('callback when the token endpoint refuses connections: the pending login is kept and the same callback works later', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, customFetch: proxy.fetchVia(op.issuer) }, ROUTES);
    const agent = request.agent(rp.app);
    const start = await agent.get('/login?returnTo=/page').expect(302);
    const back = localPath(await op.authorize(start.headers.location as string));
    await proxy.refuse();
    const failed = await agent.get(back);
    expect(failed.status).toBe(502);
    expect(failed.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    await proxy.resume();
    const retried = await agent.get(back).expect(302);
    expect(retried.headers.location).toBe('/page');
    expect((await agent.get('/page').expect(200)).body.refreshError).toBeNull();
    expect(op.tokenCalls.filter((c) => c.grantType === 'authorization_code')).toHaveLength(1);
  });

  it.each([
    ['answers 500', 502, async () => {
      op.behaviour.tokenStatus = 500;
    }],
    ['times out', 504, async () => {
      await proxy.hold();
    }],
  ] as const)('callback when the token endpoint %s: a page that starts the login again with the same returnTo', async (_name, status, fault) => {
    const rp = createRp(adapter, { issuer: op.issuer, customFetch: proxy.fetchVia(op.issuer), httpTimeout: 300 }, ROUTES);
    const agent = request.agent(rp.app);
    const start = await agent.get('/login?returnTo=%2Fpage%3Fx%3D1').expect(302);
    const back = localPath(await op.authorize(start.headers.location as string));
    await fault();
    const failed = await agent.get(back).set('Accept', 'text/html');
    await proxy.resume();
    expect(failed.status).toBe(status);
    expect(failed.headers['content-type']).toMatch(/^text\/html/);
    expect(failed.headers['cache-control']).toBe('no-store');
    const href = /href="([^"]+)"/.exec(failed.text)?.[1]?.replace(/&#38;/g, '&');
    expect(href).toBe('/login?returnTo=%2Fpage%3Fx%3D1');
    op.behaviour.tokenStatus = 200;
    const again = await agent.get(href as string).expect(302);
    const done = await agent.get(localPath(await op.authorize(again.headers.location as string))).expect(302);
    expect(done.headers.location).toBe('/page?x=1');
    await agent.get('/page').expect(200);
    await sleep(0);
  });
});
