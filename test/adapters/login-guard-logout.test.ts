import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function loggedInAgent(rp: RpApp) {
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return agent;
}

describe.each(ADAPTERS)('GET /login (%s)', (adapter) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRp(adapter, { issuer: op.issuer });
  });

  it('redirects to the authorization endpoint with code flow, state, nonce and PKCE S256', async () => {
    const res = await request(rp.app).get('/login').expect(302);
    expect(res.headers['cache-control']).toContain('no-store');
    const url = new URL(res.headers.location as string);
    expect(url.origin + url.pathname).toBe(op.issuer + '/authorize');
    const q = url.searchParams;
    expect(q.get('response_type')).toBe('code');
    expect(q.get('client_id')).toBe('rp');
    expect(q.get('redirect_uri')).toBe('http://127.0.0.1:3000/callback');
    expect(q.get('scope')).toBe('openid profile email');
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')).toMatch(/^[\w-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[\w-]{43}$/);
    expect(q.get('nonce')).not.toBe(q.get('state'));
  });

  it('never puts the verifier in the browser and sets a session cookie', async () => {
    const res = await request(rp.app).get('/login').expect(302);
    expect(res.headers['set-cookie']?.[0]).toMatch(/^sid=/);
    const stored = Object.values(await rp.sessions())[0] as { oidc: { transactions: Record<string, { codeVerifier: string }> } };
    const [tx] = Object.values(stored.oidc.transactions);
    expect(res.headers.location).not.toContain(tx?.codeVerifier);
  });

  it('gives unique, unrelated state / nonce / challenge values over many logins', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const q = new URL((await request(rp.app).get('/login')).headers.location as string).searchParams;
      for (const name of ['state', 'nonce', 'code_challenge']) seen.add(q.get(name) as string);
    }
    expect(seen.size).toBe(150);
  });

  it('forwards allow-listed parameters only, and never lets them override ours', async () => {
    const res = await request(rp.app)
      .get('/login')
      .query({ prompt: 'login', login_hint: 'alice', client_id: 'attacker', redirect_uri: 'https://evil/cb', scope: 'openid admin', foo: 'bar' })
      .expect(302);
    const q = new URL(res.headers.location as string).searchParams;
    expect(q.get('prompt')).toBe('login');
    expect(q.get('login_hint')).toBe('alice');
    expect(q.getAll('client_id')).toEqual(['rp']);
    expect(q.getAll('redirect_uri')).toEqual(['http://127.0.0.1:3000/callback']);
    expect(q.get('scope')).toBe('openid profile email');
    expect(q.has('foo')).toBe(false);
  });

  it('forwards extra parameters named in loginParams', async () => {
    rp = createRp(adapter, { issuer: op.issuer, loginParams: ['screen_hint'] });
    const q = new URL((await request(rp.app).get('/login?screen_hint=signup')).headers.location as string).searchParams;
    expect(q.get('screen_hint')).toBe('signup');
  });

  it('returns to a safe returnTo after login', async () => {
    const agent = request.agent(rp.app);
    const start = await agent.get('/login?returnTo=' + encodeURIComponent('/profile?tab=2')).expect(302);
    const done = await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    expect(done.headers.location).toBe('/profile?tab=2');
  });

  it.each(['//evil.example', '/\\evil.example', 'https://evil.example', '/%2F%2Fevil.example', 'javascript:alert(1)', '/%0d%0aX:1'])(
    'lands on / for the open-redirect payload %j',
    async (payload) => {
      const agent = request.agent(rp.app);
      const start = await agent.get('/login?returnTo=' + encodeURIComponent(payload)).expect(302);
      const done = await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
      expect(done.headers.location).toBe('/');
    },
  );

  it('answers 502 while discovery fails, and works once the IdP is back (no restart)', async () => {
    op.behaviour.discoveryStatus = 500;
    const failed = await request(rp.app).get('/login');
    expect(failed.status).toBe(502);
    expect(failed.body.error).toBe('ERR_OIDC_DISCOVERY_FAILED');
    op.behaviour.discoveryStatus = 200;
    await request(rp.app).get('/login').expect(302);
    await request(rp.app).get('/login').expect(302);
    expect(op.counters.discovery).toBe(2);
  });

  it('discovers once for many concurrent first logins', async () => {
    op.behaviour.discoveryDelayMs = 100;
    const results = await Promise.all(Array.from({ length: 20 }, () => request(rp.app).get('/login')));
    expect(results.every((r) => r.status === 302)).toBe(true);
    expect(op.counters.discovery).toBe(1);
  });

  it('answers 504 when discovery hangs', async () => {
    rp = createRp(adapter, { issuer: op.issuer, httpTimeout: 200 });
    op.behaviour.discoveryDelayMs = 5000;
    const res = await request(rp.app).get('/login');
    expect(res.status).toBe(504);
    expect(res.body.error).toBe('ERR_OIDC_IDP_TIMEOUT');
  });
});

describe.each(ADAPTERS)('two tabs (%s)', (adapter) => {
  it.each([['first-then-second'], ['second-then-first']])('both logins complete, %s', async (order) => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = request.agent(rp.app);
    const tab1 = await agent.get('/login?returnTo=/one').expect(302);
    const tab2 = await agent.get('/login?returnTo=/two').expect(302);
    const cb1 = await op.authorize(tab1.headers.location as string);
    const cb2 = await op.authorize(tab2.headers.location as string);
    const [a, b] = order === 'first-then-second' ? [cb1, cb2] : [cb2, cb1];
    const first = await agent.get(localPath(a)).expect(302);
    const second = await agent.get(localPath(b)).expect(302);
    expect([first.headers.location, second.headers.location].sort()).toEqual(['/one', '/two']);
    await agent.get('/api/me').expect(200);
  });

  it('keeps at most maxTransactions pending logins', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, maxTransactions: 2 });
    const agent = request.agent(rp.app);
    const oldest = await agent.get('/login').expect(302);
    await agent.get('/login').expect(302);
    await agent.get('/login').expect(302);
    const res = await agent.get(localPath(await op.authorize(oldest.headers.location as string)));
    expect(res.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
  });

  it('refuses a pending login older than transactionTtl', async () => {
    let now = Date.now();
    const rp = createRp(adapter, { issuer: op.issuer, transactionTtl: 60, clock: () => now });
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    now += 61_000;
    const res = await agent.get(localPath(await op.authorize(start.headers.location as string)));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
  });
});

describe.each(ADAPTERS)('requireAuth (%s)', (adapter) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRp(adapter, { issuer: op.issuer });
  });

  it('sends an anonymous browser to log in and back to the page it asked for', async () => {
    const agent = request.agent(rp.app);
    const res = await agent.get('/profile?x=1').set('Accept', 'text/html').expect(302);
    expect(new URL(res.headers.location as string).origin).toBe(op.issuer);
    const done = await agent.get(localPath(await op.authorize(res.headers.location as string))).expect(302);
    expect(done.headers.location).toBe('/profile?x=1');
    const profile = await agent.get('/profile').expect(200);
    expect(profile.body.sub).toBe('user-1');
  });

  it.each([
    ['JSON', { Accept: 'application/json' }],
    ['XHR', { Accept: 'text/html', 'X-Requested-With': 'XMLHttpRequest' }],
    ['fetch()', { Accept: 'text/html', 'Sec-Fetch-Mode': 'cors' }],
  ])('answers 401 with WWW-Authenticate to a %s request, never a redirect', async (_name, headers) => {
    const res = await request(rp.app).get('/profile').set(headers);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expect(res.body.error).toBe('ERR_OIDC_UNAUTHENTICATED');
  });

  it('answers 401 to an anonymous POST even when it accepts HTML', async () => {
    const res = await request(rp.app).post('/api/things').set('Accept', 'text/html');
    expect(res.status).toBe(401);
  });

  it('ignores identity headers a client sends', async () => {
    const res = await request(rp.app).get('/api/me').set('X-User', 'admin').set('Authorization', 'Bearer eyJhbGciOiJub25lIn0.e30.');
    expect(res.status).toBe(401);
  });

  it('gives req.user = ID token claims + userinfo, without protocol claims', async () => {
    op.behaviour.userinfoClaims = { favourite_colour: 'green' };
    const agent = await loggedInAgent(rp);
    const { body } = await agent.get('/api/me').expect(200);
    expect(body.user).toMatchObject({ sub: 'user-1', iss: op.issuer, favourite_colour: 'green' });
    for (const claim of ['aud', 'nonce', 'at_hash', 'exp', 'iat']) expect(body.user).not.toHaveProperty(claim);
    expect(typeof body.expiresAt).toBe('number');
  });

  it('changes the session id at login (fixation) and removes the old session', async () => {
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const before = Object.keys(await rp.sessions());
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const after = Object.keys(await rp.sessions());
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
  });

  it('ends the login after absoluteDuration whatever the activity', async () => {
    let now = Date.now();
    rp = createRp(adapter, { issuer: op.issuer, absoluteDuration: 3600, clock: () => now });
    const agent = await loggedInAgent(rp);
    now += 3599_000;
    await agent.get('/api/me').expect(200);
    now += 2_000;
    await agent.get('/api/me').expect(401);
  });
});

describe.each(ADAPTERS)('logout (%s)', (adapter) => {
  it('destroys the session in the store and redirects home', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp);
    const res = await agent.get('/logout').expect(302);
    expect(res.headers.location).toBe('http://127.0.0.1:3000/');
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
    await agent.get('/api/me').expect(401);
  });

  it('answers POST /logout with 303, never 307', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp);
    await agent.post('/logout').set('Origin', 'http://127.0.0.1:3000').expect(303);
    await agent.get('/api/me').expect(401);
  });

  it.each([
    ['GET with Sec-Fetch-Site: cross-site', 'get', { 'Sec-Fetch-Site': 'cross-site' }],
    ['GET with Sec-Fetch-Site: same-site', 'get', { 'Sec-Fetch-Site': 'same-site' }],
    ['POST from another Origin', 'post', { Origin: 'https://evil.example' }],
  ] as const)('refuses a cross-site logout (%s) and keeps the user logged in', async (_name, method, headers) => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp);
    const res = await agent[method]('/logout').set(headers);
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ERR_OIDC_CROSS_SITE_REQUEST');
    await agent.get('/api/me').expect(200);
  });

  it('ignores an off-site returnTo / post_logout_redirect_uri', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp);
    const res = await agent.get('/logout?returnTo=//evil.example&post_logout_redirect_uri=https://evil.example').expect(302);
    expect(res.headers.location).toBe('http://127.0.0.1:3000/');
  });

  it('sends the browser to the end_session_endpoint with idpLogout, and revokes the tokens', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, idpLogout: true });
    const agent = await loggedInAgent(rp);
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
    const agent = await loggedInAgent(rp);
    const res = await agent.get('/logout').expect(302);
    expect(res.headers.location).toBe('http://127.0.0.1:3000/');
  });

  it('does not block logout when revocation fails', async () => {
    op.behaviour.revocationStatus = 503;
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp);
    await agent.get('/logout').expect(302);
    await agent.get('/api/me').expect(401);
  });
});

describe.each(ADAPTERS)('cache and cookie hygiene (%s)', (adapter) => {
  it('marks guarded responses Cache-Control: no-store', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp);
    const res = await agent.get('/profile').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('warns once when the session cookie is not Secure behind an https baseUrl, or has no SameSite', async () => {
    const warnings: string[] = [];
    const log = () => undefined;
    const rp = createRp(adapter, { issuer: op.issuer, baseUrl: 'https://app.example.com', logger: { debug: log, info: log, error: log, warn: (m: string) => warnings.push(m) } });
    await request(rp.app).get('/login');
    await request(rp.app).get('/login');
    expect(warnings.filter((w) => w.includes('not Secure'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('SameSite'))).toHaveLength(1);
  });
});
