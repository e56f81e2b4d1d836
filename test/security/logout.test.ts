/**
 * Security checklist §5.14 and SES-12: logout CSRF variants, status codes after POST, anonymous logout,
 * and the IdP's post-logout redirect coming back with a foreign, missing or no pending state.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, EXPRESS_MAJORS, localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { loggedIn, storedAuths } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

describe.each(EXPRESS_MAJORS)('logout (Express %i)', (major) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRpApp({ issuer: op.issuer }, major);
  });

  it.each([
    ['POST with Sec-Fetch-Site: cross-site and no Origin', { 'Sec-Fetch-Site': 'cross-site' }],
    ['POST with Sec-Fetch-Site: same-site (a sibling subdomain)', { 'Sec-Fetch-Site': 'same-site' }],
    ['POST with Origin: null (sandboxed iframe, data: URL)', { Origin: 'null' }],
    ['POST from our host on another port', { Origin: 'http://127.0.0.1:3001' }],
    ['POST from our origin as a prefix of another host', { Origin: 'http://127.0.0.1:3000.evil.example' }],
    ['POST from https on our host', { Origin: 'https://127.0.0.1:3000' }],
  ])('SES-12 refuses %s: 403, still logged in', async (_name, headers) => {
    const agent = await loggedIn(rp, op);
    const res = await agent.post('/logout').set(headers);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ERR_OIDC_CROSS_SITE_REQUEST');
    await agent.get('/api/me').expect(200);
    // (Revocation runs after a logout's answer: an earlier test's may still arrive, so look for ours.)
    const mine = (await storedAuths(rp)).flatMap((a) => [a.accessToken, a.refreshToken]);
    expect(op.revocations.filter((r) => mine.includes(r.token))).toEqual([]);
  });

  it.each([
    ['a same-origin POST', 'post', { Origin: RP_BASE_URL, 'Sec-Fetch-Site': 'same-origin' }, 303],
    ['a typed-in / bookmarked GET (Sec-Fetch-Site: none)', 'get', { 'Sec-Fetch-Site': 'none' }, 302],
  ] as const)('SES-12 accepts %s', async (_name, method, headers, status) => {
    const agent = await loggedIn(rp, op);
    await agent[method]('/logout').set(headers).expect(status);
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });

  it('LO-08 logout while anonymous is idempotent: a redirect home, no session created', async () => {
    for (let i = 0; i < 2; i++) {
      const get = await request(rp.app).get('/logout').expect(302);
      expect(get.headers.location).toBe(`${RP_BASE_URL}/`);
      await request(rp.app).post('/logout').set('Origin', RP_BASE_URL).expect(303);
    }
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
    expect(op.counters.revocation).toBe(0);
  });

  it('LO-10 / LO-01 POST /logout with idpLogout answers 303 (never 307) to the end_session_endpoint, after the local session is gone', async () => {
    rp = createRpApp({ issuer: op.issuer, idpLogout: true }, major);
    const agent = await loggedIn(rp, op);
    const res = await agent.post('/logout').set('Origin', RP_BASE_URL);
    expect(res.status).toBe(303);
    expect(new URL(res.headers.location as string).pathname).toBe('/end_session');
    expect(res.headers['cache-control']).toContain('no-store');
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
    expect(op.counters.end_session).toBe(0);
  });

  it.each([
    ['LO-03', 'another state', (url: URL) => url.searchParams.set('state', 'someone-elses-state')],
    ['LO-04', 'no state', (url: URL) => url.searchParams.delete('state')],
  ])('%s the IdP returning from logout with %s lands on the neutral home page, anonymous', async (_id, _name, mutate) => {
    rp = createRpApp({ issuer: op.issuer, idpLogout: true }, major);
    op.behaviour.endSessionRedirect = true;
    const agent = await loggedIn(rp, op);
    const toIdp = await agent.get('/logout').expect(302);
    const back = new URL(await op.authorize(toIdp.headers.location as string));
    expect(back.origin + back.pathname).toBe(`${RP_BASE_URL}/`);
    mutate(back);
    const home = await agent.get(localPath(back.href)).set('Accept', 'text/html');
    expect(home.status).toBe(200);
    expect(home.body.user).toBeNull();
  });

  it('LO-05 the post-logout target hit directly, with no logout pending, has no effect on a logged-in user', async () => {
    rp = createRpApp({ issuer: op.issuer, idpLogout: true }, major);
    const agent = await loggedIn(rp, op);
    const res = await agent.get('/?state=forged').set('Accept', 'text/html');
    expect(res.status).toBe(200);
    expect(res.body.user.sub).toBe('user-1');
    await agent.get('/api/me').expect(200);
  });

  it('LO-02 a logout with idpLogout never forwards a caller-supplied post_logout_redirect_uri or state', async () => {
    rp = createRpApp({ issuer: op.issuer, idpLogout: true }, major);
    const agent = await loggedIn(rp, op);
    const res = await agent.get('/logout?post_logout_redirect_uri=https://evil.example&state=attacker&id_token_hint=x').expect(302);
    const q = new URL(res.headers.location as string).searchParams;
    expect(q.getAll('post_logout_redirect_uri')).toEqual([`${RP_BASE_URL}/`]);
    expect(q.getAll('state')).toHaveLength(1);
    expect(q.get('state')).not.toBe('attacker');
    expect(q.get('id_token_hint')).not.toBe('x');
  });
});
