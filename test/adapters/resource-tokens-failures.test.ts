import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpOptions, TestRoute } from '../helpers/rp-app.js';

// getAccessToken({ resource }) when the IdP misbehaves: what reaches the app, and what stays in the session.
const API = 'https://api.example.test';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const ROUTES: TestRoute[] = [
  { method: 'get', path: '/api-token', handler: async ({ oidc }) => ({ token: await oidc?.getAccessToken({ resource: API }) }) },
];

async function setup(adapter: Adapter, options: RpOptions = {}) {
  const rp = createRp(adapter, { issuer: op.issuer, resources: [API], ...options }, ROUTES);
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  expect(new URL(start.headers.location as string).searchParams.getAll('resource')).toEqual([API]);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  const stored = async () => (Object.values(await rp.sessions())[0] as { oidc?: { auth?: Record<string, unknown> } } | undefined)?.oidc?.auth;
  return { rp, agent, stored };
}

describe.each(ADAPTERS)('getAccessToken({ resource }) with a failing IdP (%s)', (adapter) => {
  it('sends resource on a refresh_token grant and keeps the rotated refresh token', async () => {
    const { agent, stored } = await setup(adapter);
    const before = await stored();
    const res = await agent.get('/api-token').expect(200);
    const call = op.tokenCalls.at(-1);
    expect(call?.grantType).toBe('refresh_token');
    expect(call?.params.resource).toBe(API);
    expect(call?.params.refresh_token).toBe(before?.refreshToken);
    const after = await stored();
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    expect((after?.resourceTokens as Record<string, { accessToken: string }>)[API]?.accessToken).toBe(res.body.token);
  });

  it('invalid_target: 403 ERR_OIDC_RESOURCE_REFUSED, login and refresh token kept', async () => {
    const { agent, stored } = await setup(adapter);
    const before = await stored();
    op.behaviour.refreshError = 'invalid_target';
    const res = await agent.get('/api-token').expect(403);
    expect(res.body.error).toBe('ERR_OIDC_RESOURCE_REFUSED');
    expect(await stored()).toEqual(before);
  });

  it('a 500 from the token endpoint: 502, nothing stored, the login stays', async () => {
    const { agent, stored } = await setup(adapter);
    const before = await stored();
    op.behaviour.tokenStatus = 500;
    const res = await agent.get('/api-token').expect(502);
    expect(res.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    expect(await stored()).toEqual(before);
  });

  it('a token endpoint that does not answer: 504 within the timeout, the login stays', async () => {
    const { agent, stored } = await setup(adapter, { httpTimeout: 200 });
    const before = await stored();
    op.behaviour.tokenDelayMs = 3000;
    const started = Date.now();
    const res = await agent.get('/api-token').expect(504);
    expect(Date.now() - started).toBeLessThan(2500);
    expect(res.body.error).toBe('ERR_OIDC_IDP_TIMEOUT');
    expect(await stored()).toEqual(before);
  });

  it('a login without a refresh token: 403 ERR_OIDC_RESOURCE_REFUSED, no token request', async () => {
    op.behaviour.issueRefreshToken = false;
    const { agent } = await setup(adapter);
    const calls = op.tokenCalls.length;
    const res = await agent.get('/api-token').expect(403);
    expect(res.body.error).toBe('ERR_OIDC_RESOURCE_REFUSED');
    expect(op.tokenCalls.length).toBe(calls);
  });

  it('logged out: 401 ERR_OIDC_UNAUTHENTICATED', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, resources: [API] }, ROUTES);
    const res = await request(rp.app).get('/api-token').expect(401);
    expect(res.body.error).toBe('ERR_OIDC_UNAUTHENTICATED');
  });
});
