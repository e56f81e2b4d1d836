// GET/POST /logout: session destruction, IdP logout, revocation, both adapters.
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, loggedInAgent } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

describe.each(ADAPTERS)('logout (%s)', (adapter) => {
  it('destroys the session in the store and redirects home', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp, op);
    const res = await agent.get('/logout').expect(302);
    expect(res.headers.location).toBe('http://127.0.0.1:3000/');
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
    await agent.get('/api/me').expect(401);
  });

  it('answers POST /logout with 303, never 307', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp, op);
    await agent.post('/logout').set('Origin', 'http://127.0.0.1:3000').expect(303);
    await agent.get('/api/me').expect(401);
  });

  it.each([
    ['GET with Sec-Fetch-Site: cross-site', 'get', { 'Sec-Fetch-Site': 'cross-site' }],
    ['GET with Sec-Fetch-Site: same-site', 'get', { 'Sec-Fetch-Site': 'same-site' }],
    ['POST from another Origin', 'post', { Origin: 'https://evil.example' }],
  ] as const)('refuses a cross-site logout (%s) and keeps the user logged in', async (_name, method, headers) => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp, op);
    const res = await agent[method]('/logout').set(headers);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ERR_OIDC_CROSS_SITE_REQUEST');
    await agent.get('/api/me').expect(200);
  });

  it('ignores an off-site returnTo / post_logout_redirect_uri', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp, op);
    const res = await agent.get('/logout?returnTo=//evil.example&post_logout_redirect_uri=https://evil.example').expect(302);
    expect(res.headers.location).toBe('http://127.0.0.1:3000/');
  });

  it('sends the browser to the end_session_endpoint with idpLogout, and revokes the tokens', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, idpLogout: true });
    const agent = await loggedInAgent(rp, op);
    const { idToken, accessToken, refreshToken } = (Object.values(await rp.sessions())[0] as { oidc: { auth: Record<string, string> } }).oidc.auth;
    const res = await agent.get('/logout').expect(302);
    const url = new URL(res.headers.location as string);
    expect(url.origin + url.pathname).toBe(op.issuer + '/end_session');
    expect(url.searchParams.get('id_token_hint')).toBe(idToken);
    expect(url.searchParams.get('client_id')).toBe('rp');
    expect(url.searchParams.get('post_logout_redirect_uri')).toBe('http://127.0.0.1:3000/');
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/);
    // Revocation runs after the answer (an earlier test's may still arrive): this session's, in this order.
    const mine = () => op.revocations.filter((r) => r.token === accessToken || r.token === refreshToken);
    await expect.poll(() => mine().map((r) => [r.token, r.token_type_hint])).toEqual([[refreshToken, 'refresh_token'], [accessToken, 'access_token']]);
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
  });

  it('still reaches the IdP logout when the local session is already gone', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, idpLogout: true });
    const res = await request(rp.app).get('/logout').expect(302);
    const url = new URL(res.headers.location as string);
    expect(url.pathname).toBe('/end_session');
    expect(url.searchParams.has('id_token_hint')).toBe(false);
  });

  it('logs out locally when the IdP has no end_session_endpoint', async () => {
    op.behaviour.discoveryOverrides = { end_session_endpoint: undefined };
    const rp = createRp(adapter, { issuer: op.issuer, idpLogout: true });
    const agent = await loggedInAgent(rp, op);
    const res = await agent.get('/logout').expect(302);
    expect(res.headers.location).toBe('http://127.0.0.1:3000/');
  });

  it('does not block logout when revocation fails', async () => {
    op.behaviour.revocationStatus = 503;
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp, op);
    await agent.get('/logout').expect(302);
    await agent.get('/api/me').expect(401);
  });
});
