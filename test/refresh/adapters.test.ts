import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpApp, TestRoute } from '../helpers/rp-app.js';
import type { RpOptions } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => {
  op.reset();
  op.behaviour.accessTokenTtl = 30;
});

interface Harness {
  rp: RpApp;
  agent: request.Agent;
  advance(seconds: number): void;
  stored(): Promise<{ accessToken: string; refreshToken: string; idToken: string; expiresAt: number } | undefined>;
  refreshCalls(): number;
}

/** Routes the refresh cases need, written once for every adapter. */
const REFRESH_ROUTES: TestRoute[] = [
  {
    method: 'get',
    path: '/token',
    handler: async ({ oidc, query }) => ({ token: await oidc?.getAccessToken({ minTtl: Number(query.minTtl ?? 60) }) }),
  },
  { method: 'get', path: '/no-refresh', guard: { autoRefresh: false }, handler: ({ oidc }) => ({ token: oidc?.accessToken }) },
  { method: 'get', path: '/token-now', guard: {}, handler: ({ oidc, user }) => ({ token: oidc?.accessToken, user }) },
];

async function setup(adapter: Adapter, options: RpOptions = {}): Promise<Harness> {
  let offset = 0;
  const rp = createRp(adapter, { issuer: op.issuer, clock: () => Date.now() + offset, ...options }, REFRESH_ROUTES);
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return {
    rp,
    agent,
    advance: (seconds) => {
      offset += seconds * 1000;
    },
    stored: async () => (Object.values(await rp.sessions())[0] as { oidc?: { auth?: never } } | undefined)?.oidc?.auth,
    refreshCalls: () => op.tokenCalls.filter((call) => call.grantType === 'refresh_token').length,
  };
}

describe.each(ADAPTERS)('refresh (%s)', (adapter) => {
  it('getAccessToken() returns the current token while it is fresh, and refreshes within minTtl', async () => {
    const h = await setup(adapter);
    const before = await h.stored();
    const fresh = await h.agent.get('/token?minTtl=10').expect(200);
    expect(fresh.body.token).toBe(before?.accessToken);
    expect(h.refreshCalls()).toBe(0);
    const refreshed = await h.agent.get('/token?minTtl=60').expect(200);
    expect(refreshed.body.token).not.toBe(before?.accessToken);
    expect(h.refreshCalls()).toBe(1);
    const after = await h.stored();
    expect(after?.accessToken).toBe(refreshed.body.token);
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
  });

  it('keeps the old refresh token when the IdP does not rotate it', async () => {
    op.behaviour.rotateRefreshToken = false;
    const h = await setup(adapter);
    const before = await h.stored();
    await h.agent.get('/token?minTtl=60').expect(200);
    expect((await h.stored())?.refreshToken).toBe(before?.refreshToken);
  });

  it('requireAuth() refreshes an expired access token before the handler runs; new ID token claims reach req.user', async () => {
    const h = await setup(adapter);
    op.behaviour.refreshIdToken = { claims: { name: 'Renamed User' } };
    h.advance(31);
    const res = await h.agent.get('/token-now').expect(200);
    expect(h.refreshCalls()).toBe(1);
    expect(res.body.token).toBe((await h.stored())?.accessToken);
    expect(res.body.user.name).toBe('Renamed User');
  });

  it('requireAuth({ autoRefresh: false }) lets the expired token through untouched', async () => {
    const h = await setup(adapter);
    h.advance(31);
    await h.agent.get('/no-refresh').expect(200);
    expect(h.refreshCalls()).toBe(0);
  });

  it('the oidc() option autoRefresh: false turns it off everywhere', async () => {
    const h = await setup(adapter, { autoRefresh: false });
    h.advance(31);
    await h.agent.get('/token-now').expect(200);
    expect(h.refreshCalls()).toBe(0);
  });

  it('100 concurrent requests with an expired token cause exactly one refresh; all see the new token', async () => {
    const h = await setup(adapter);
    h.advance(31);
    op.behaviour.tokenDelayMs = 150;
    const results = await Promise.all(Array.from({ length: 100 }, () => h.agent.get('/token-now')));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(h.refreshCalls()).toBe(1);
    const stored = await h.stored();
    expect(new Set(results.map((r) => r.body.token))).toEqual(new Set([stored?.accessToken]));
  });

  it.each([
    ['a different sub', { sub: 'mallory' }],
    ['a different iss', { iss: 'https://evil.example' }],
    ['a different aud', { aud: 'other-client' }],
    ['an earlier auth_time', { auth_time: 1 }],
  ])('treats a refreshed ID token with %s as a failed refresh: logged out', async (_name, claims) => {
    const h = await setup(adapter);
    op.behaviour.refreshIdToken = { claims };
    h.advance(31);
    const api = await h.agent.get('/token-now');
    expect(api.status).toBe(401);
    expect((await h.stored())).toBeUndefined();
    const page = await h.agent.get('/token-now').set('Accept', 'text/html');
    expect(page.status).toBe(302);
    expect(new URL(page.headers.location as string).origin).toBe(op.issuer);
  });

  it('ends the login when the IdP answers invalid_grant', async () => {
    const h = await setup(adapter);
    op.behaviour.refreshError = 'invalid_grant';
    h.advance(31);
    const res = await h.agent.get('/token-now');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_UNAUTHENTICATED');
    expect(await h.stored()).toBeUndefined();
  });

  it('getAccessToken() after invalid_grant throws ERR_OIDC_REFRESH_FAILED (401)', async () => {
    const h = await setup(adapter);
    op.behaviour.refreshError = 'invalid_grant';
    const res = await h.agent.get('/token?minTtl=60');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_REFRESH_FAILED');
  });

  it('lets the request through with the current token and keeps the session when the IdP fails during refresh (issue 18)', async () => {
    const h = await setup(adapter);
    const before = await h.stored();
    op.behaviour.tokenStatus = 500;
    h.advance(31);
    const res = await h.agent.get('/token-now').expect(200);
    expect(res.body.token).toBe(before?.accessToken);
    expect(await h.stored()).toBeDefined();
    const api = await h.agent.get('/token?minTtl=60');
    expect(api.status).toBe(502);
    expect(api.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
  });

  it('answers in time when the refresh is slow, and saves the late answer (issue 18)', async () => {
    const h = await setup(adapter, { httpTimeout: 200 });
    const before = await h.stored();
    op.behaviour.tokenDelayMs = 600;
    h.advance(31);
    const res = await h.agent.get('/token-now').expect(200);
    expect(res.body.token).toBe(before?.accessToken);
    await expect.poll(async () => (await h.stored())?.accessToken, { timeout: 3000 }).not.toBe(before?.accessToken);
    expect(h.refreshCalls()).toBe(1);
  });

  it('does not bring a logged-out session back when logout happens during a refresh', async () => {
    const h = await setup(adapter);
    op.behaviour.tokenDelayMs = 300;
    h.advance(31);
    const slow = h.agent.get('/token-now').then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.agent.get('/logout').expect(302);
    const res = await slow;
    expect(res.status).toBe(401);
    expect(JSON.stringify(await h.rp.sessions())).not.toMatch(/"auth"|accessToken|refreshToken/);
  });

  it('sends the newest ID token as id_token_hint after a refresh', async () => {
    const h = await setup(adapter, { idpLogout: true });
    await h.agent.get('/token?minTtl=60').expect(200);
    const latest = await h.stored();
    const res = await h.agent.get('/logout').expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('id_token_hint')).toBe(latest?.idToken);
  });
});
