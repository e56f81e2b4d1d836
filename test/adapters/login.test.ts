// GET /login and pending logins (several tabs, maxTransactions, transactionTtl), both adapters.
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
