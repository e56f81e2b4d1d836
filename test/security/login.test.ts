/**
 * Security checklist §5.1: what an attacker (or a hostile OP's metadata) can do to GET /login.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, EXPRESS_MAJORS, localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { loggedIn, pendingStates, storedAuths } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const REDIRECT_URI = `${RP_BASE_URL}/callback`;

describe.each(EXPRESS_MAJORS)('GET /login (Express %i)', (major) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRpApp({ issuer: op.issuer }, major);
  });

  it('LGN-03 none of the protocol parameters an attacker puts on /login reach the IdP', async () => {
    const hostile = {
      client_id: 'evil', redirect_uri: 'https://evil.example/cb', response_type: 'token', response_mode: 'fragment',
      state: 'x', nonce: 'x', code_challenge: 'x', code_challenge_method: 'plain', request_uri: 'urn:evil', request: 'eyJ.x.y',
      scope: 'openid admin', claims: '{"id_token":{"acr":{"essential":true}}}', max_age: '0', acr_values: 'weak', client_secret: 's',
    };
    const res = await request(rp.app).get('/login').query(hostile).expect(302);
    const q = new URL(res.headers.location as string).searchParams;
    expect(q.getAll('client_id')).toEqual(['rp']);
    expect(q.getAll('redirect_uri')).toEqual([REDIRECT_URI]);
    expect(q.getAll('response_type')).toEqual(['code']);
    expect(q.getAll('code_challenge_method')).toEqual(['S256']);
    expect(q.get('scope')).toBe('openid profile email');
    for (const name of ['response_mode', 'request_uri', 'request', 'claims', 'max_age', 'acr_values', 'client_secret']) expect(q.has(name)).toBe(false);
    for (const name of ['state', 'nonce', 'code_challenge']) {
      expect(q.getAll(name)).toHaveLength(1);
      expect(q.get(name)).not.toBe('x');
    }
  });

  it.each([
    ['an oversize login_hint', `login_hint=${'a'.repeat(600)}`],
    ['a repeated prompt', 'prompt=login&prompt=consent'],
  ])('LGN-03 %s is refused with 400 and no transaction', async (_name, query) => {
    const res = await request(rp.app).get(`/login?${query}`);
    expect(res.status).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(await pendingStates(rp)).toEqual([]);
  });

  it('LGN-04 Host / X-Forwarded-* from the client never change the redirect_uri sent to the IdP', async () => {
    const res = await request(rp.app)
      .get('/login')
      .set('Host', 'evil.example')
      .set('X-Forwarded-Host', 'evil.example')
      .set('X-Forwarded-Proto', 'https')
      .set('Forwarded', 'host=evil.example;proto=https')
      .expect(302);
    expect(new URL(res.headers.location as string).searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
  });

  it('LGN-05 metadata without code_challenge_methods_supported: PKCE S256, state and nonce are still sent, and the login completes', async () => {
    op.behaviour.discoveryOverrides = { code_challenge_methods_supported: undefined };
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const q = new URL(start.headers.location as string).searchParams;
    expect(q.get('code_challenge_method')).toBe('S256');
    expect(q.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(q.get('state')).toMatch(/^[\w-]{43}$/);
    expect(q.get('nonce')).toMatch(/^[\w-]{43}$/);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    expect(op.tokenCalls[0]?.params.code_verifier).toMatch(/^[\w-]{43}$/);
  });

  it('LGN-06 many /login calls with one cookie keep a bounded number of pending logins and a small session', async () => {
    const agent = request.agent(rp.app);
    const starts = [];
    for (let i = 0; i < 40; i++) starts.push(await agent.get('/login').expect(302));
    const pending = await pendingStates(rp);
    expect(pending).toHaveLength(5);
    expect(JSON.stringify(await rp.sessions()).length).toBeLessThan(4096);
    const newest = new URL(starts.at(-1)?.headers.location as string).searchParams.get('state');
    expect(pending).toContain(newest);
    const oldest = await agent.get(localPath(await op.authorize(starts[0]?.headers.location as string)));
    expect(oldest.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
  });

  it.each(['https:evil.example', 'HTTPS://evil.example', '/\t/evil.example', '/%09/evil.example', '\\\\evil.example', `/${'a'.repeat(10_000)}`])(
    'LGN-07 returnTo %j ends on /',
    async (payload) => {
      const agent = request.agent(rp.app);
      const start = await agent.get('/login').query({ returnTo: payload }).expect(302);
      const done = await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
      expect(done.headers.location).toBe('/');
    },
  );

  it('LGN-08 a failed discovery leaves no pending login and no session behind', async () => {
    op.behaviour.discoveryStatus = 500;
    const res = await request(rp.app).get('/login');
    expect(res.status).toBe(502);
    expect(res.headers.location).toBeUndefined();
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
  });

  it('LGN-09 /login while logged in starts a new flow without putting tokens in the URL, and regenerates the session again', async () => {
    const agent = await loggedIn(rp, op);
    const [before] = await storedAuths(rp);
    const idBefore = Object.keys(await rp.sessions())[0];
    const again = await agent.get('/login').expect(302);
    const location = again.headers.location as string;
    for (const token of [before?.accessToken, before?.refreshToken, before?.idToken]) expect(location).not.toContain(token);
    await agent.get(localPath(await op.authorize(location))).expect(302);
    const ids = Object.keys(await rp.sessions());
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(idBefore);
  });

  it('LGN-10 without attemptSilentLogin an anonymous page view never starts a login (no prompt=none on page loads)', async () => {
    const res = await request(rp.app).get('/').set('Accept', 'text/html');
    expect(res.status).toBe(200);
    expect(op.counters.discovery + op.counters.authorization).toBe(0);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('LGN-12 the authorization URL uses the discovered endpoint and asks for openid, with no token in it', async () => {
    const res = await request(rp.app).get('/login').expect(302);
    const url = new URL(res.headers.location as string);
    expect(url.origin + url.pathname).toBe(`${op.issuer}/authorize`);
    expect(url.searchParams.get('scope')?.split(' ')).toContain('openid');
    expect(url.href).not.toMatch(/access_token|id_token|eyJ/);
  });
});

describe('several IdPs', () => {
  it('LGN-11 /login?provider=<unknown or a URL>: 400 and no discovery anywhere', async () => {
    const rp = createRpApp({
      clientId: undefined,
      clientSecret: undefined,
      providers: [{ id: 'corp', issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret' }],
    });
    for (const provider of ['nope', op.issuer, `${op.issuer}/.well-known/openid-configuration`, '__proto__', 'constructor']) {
      const res = await request(rp.app).get('/login').query({ provider });
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('ERR_OIDC_UNKNOWN_PROVIDER');
    }
    expect(op.counters.discovery).toBe(0);
  });
});
