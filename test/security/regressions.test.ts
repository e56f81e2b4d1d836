/* Regression tests for the bugs the security sweep found (each named by its checklist ID). */
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oidc } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import { loggedIn, login, nowSec, startLogin, storedAuths } from './support.js';

let op: HostileOp;
let op2: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
  op2 = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(async () => {
  await op.close();
  await op2.close();
});
beforeEach(() => {
  op.reset();
  op2.reset();
});

describe('regressions from the security sweep', () => {
  it('LGN-07 returnTo with dot segments must not become a protocol-relative Location', async () => {
    const rp = createRpApp({ issuer: op.issuer });
    const { res } = await login(rp, op, '/login?returnTo=' + encodeURIComponent('/.//evil.example/phish'));
    expect(res.headers.location).toBe('/');
  });

  it('LO-02 logout returnTo with dot segments must not redirect off-site', async () => {
    const rp = createRpApp({ issuer: op.issuer });
    const res = await request(rp.app).get('/logout?returnTo=' + encodeURIComponent('/..//evil.example')).set('Sec-Fetch-Site', 'none');
    expect(res.headers.location).toBe(`${RP_BASE_URL}/`);
  });

  it('AUTHZ-01 a guarded page at /.//evil.example must not log in to an off-site returnTo', async () => {
    const rp = createRpApp({ issuer: op.issuer }, 5, (app, auth) => app.use(auth.requireAuth(), (_req, res) => res.end('ok')));
    const agent = request.agent(rp.app);
    const start = await agent.get('/.//evil.example').set('Accept', 'text/html').expect(302);
    const done = await agent.get(localPath(await op.authorize(start.headers.location as string)));
    expect(done.headers.location).not.toMatch(/^\/\//);
  });

  it('CB-10 two parallel identical callbacks must cause exactly one token request', async () => {
    const rp = createRpApp({ issuer: op.issuer });
    const { agent, callbackPath } = await startLogin(rp, op);
    await Promise.all([agent.get(callbackPath), agent.get(callbackPath)]);
    expect(op.counters.token).toBe(1);
  });

  it('BCL-20 a request in flight that writes the session must not resurrect it after a back-channel logout', async () => {
    const rp = createRpApp({ issuer: op.issuer, backchannelLogout: true }, 5, (app, auth) => {
      app.get('/slow', auth.requireAuth(), async (req, res) => {
        await new Promise((r) => setTimeout(r, 200));
        (req.session as unknown as Record<string, unknown>).lastSeen = Date.now();
        res.json({ ok: true });
      });
    });
    const agent = await loggedIn(rp, op);
    const sid = op.logins.at(-1)?.sid;
    const slow = agent.get('/slow').then((r) => r);
    await new Promise((r) => setTimeout(r, 50));
    const lt = await op.sign({ iss: op.issuer, aud: 'rp', iat: nowSec(), exp: nowSec() + 120, jti: `j-${Date.now()}`, events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sid });
    expect((await request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: lt })).status).toBe(200);
    await slow;
    expect((await agent.get('/api/me').set('Accept', 'application/json')).status).toBe(401);
  });

  it('SES-17 a request in flight that writes the session must not resurrect it after /logout in another tab', async () => {
    const rp = createRpApp({ issuer: op.issuer }, 5, (app, auth) => {
      app.get('/slow', auth.requireAuth(), async (req, res) => {
        await new Promise((r) => setTimeout(r, 200));
        (req.session as unknown as Record<string, unknown>).lastSeen = Date.now();
        res.json({ ok: true });
      });
    });
    const agent = await loggedIn(rp, op);
    const slow = agent.get('/slow').then((r) => r);
    await new Promise((r) => setTimeout(r, 50));
    await agent.get('/logout').expect(302);
    await slow;
    expect(await storedAuths(rp)).toEqual([]);
  });

  it('AUTHZ-05 a session created for issuer A must not be accepted by an app configured for issuer B', async () => {
    const store = new session.MemoryStore();
    const app = (issuer: string) => {
      const a = express();
      a.use(session({ secret: 's', resave: false, saveUninitialized: false, store, name: 'sid' }));
      const auth = oidc({ issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL });
      a.use(auth);
      a.get('/api/me', auth.requireAuth(), (req, res) => res.json(req.user));
      return a;
    };
    const agentA = request.agent(app(op.issuer));
    const start = await agentA.get('/login').expect(302);
    const done = await agentA.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const cookie = (done.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
    const res = await request(app(op2.issuer)).get('/api/me').set('Cookie', cookie).set('Accept', 'application/json');
    expect(res.status).toBe(401);
  });

  it('UI-07 a "__proto__" claim in the ID token must not become the prototype of req.user', async () => {
    op.behaviour.idToken = { claims: JSON.parse('{"__proto__":{"isAdmin":true}}') };
    const rp = createRpApp({ issuer: op.issuer }, 5, (app) => app.get('/probe', (req, res) => res.json({ isAdmin: (req.user as Record<string, unknown>).isAdmin ?? null })));
    const agent = await loggedIn(rp, op);
    expect((await agent.get('/probe')).body.isAdmin).toBeNull();
  });

  it.each([
    ['azp newly added', { azp: 'other-client' }],
    ['a later auth_time', { auth_time: nowSec() + 100 }],
  ])('REF-04 a refreshed ID token with %s must end the login (Core 12.2)', async (_n, claims) => {
    let offset = 0;
    op.behaviour.accessTokenTtl = 30;
    const rp = createRpApp({ issuer: op.issuer, clock: () => Date.now() + offset });
    const agent = await loggedIn(rp, op);
    op.behaviour.refreshIdToken = { claims };
    offset = 31_000;
    expect((await agent.get('/api/me').set('Accept', 'application/json')).status).toBe(401);
  });

  it('R4 / LEAK-01 an error answer of /callback must be no-store and no-referrer', async () => {
    op.behaviour.idToken = { badSignature: true };
    const { res } = await login(createRpApp({ issuer: op.issuer }), op);
    expect(res.status).toBe(502);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
  });

  it('DISC-05 an http authorization_endpoint of an https issuer must be refused as ERR_OIDC_DISCOVERY_FAILED', async () => {
    const customFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return fetch(`${op.issuer}${url.pathname}${url.search}`, init);
    }) as typeof fetch;
    op.behaviour.discoveryBody = JSON.stringify({
      issuer: 'https://op.example', authorization_endpoint: 'http://op.example/authorize', token_endpoint: 'https://op.example/token',
      jwks_uri: 'https://op.example/jwks', response_types_supported: ['code'], subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'],
    });
    const rp = createRpApp({ issuer: 'https://op.example', customFetch });
    const res = await request(rp.app).get('/login');
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_DISCOVERY_FAILED');
  });

  it('TOK-09 a 20 MB token response must be refused (size cap), not processed', async () => {
    op.behaviour.tokenExtra = { padding: 'x'.repeat(20_000_000) };
    const { res } = await login(createRpApp({ issuer: op.issuer }), op);
    expect(res.status).toBe(502);
  });

  it('UI-11 a 5 MB userinfo claim must not be stored in the session', async () => {
    op.behaviour.userinfoClaims = { padding: 'x'.repeat(5_000_000) };
    const rp = createRpApp({ issuer: op.issuer });
    await login(rp, op);
    expect(JSON.stringify(await rp.sessions()).length).toBeLessThan(100_000);
  });

  it('CB-18 an injected id_token / access_token on a code callback must be a 400 ERR_OIDC_INVALID_CALLBACK', async () => {
    for (const name of ['id_token', 'access_token']) {
      op.reset();
      op.behaviour.extraCallbackParams = { [name]: 'eyJhbGciOiJub25lIn0.e30.' };
      const { res } = await login(createRpApp({ issuer: op.issuer }), op);
      expect({ name, status: res.status, error: res.body.error }).toEqual({ name, status: 400, error: 'ERR_OIDC_INVALID_CALLBACK' });
    }
  });

  it('UI-06 protocol claims from userinfo must not reach req.user', async () => {
    op.behaviour.userinfoClaims = { acr: 'mfa', amr: ['hwk'], auth_time: 1, aud: 'x', nonce: 'n', exp: 1 };
    const rp = createRpApp({ issuer: op.issuer });
    const agent = await loggedIn(rp, op);
    const user = (await agent.get('/api/me')).body.user;
    expect(Object.keys(user).filter((k) => ['acr', 'amr', 'auth_time', 'aud', 'nonce', 'exp'].includes(k))).toEqual([]);
  });

  it('ERR-04 server_error from the IdP is an upstream failure (502/503), not access denied', async () => {
    op.behaviour.authorizeError = { error: 'server_error' };
    const { res } = await login(createRpApp({ issuer: op.issuer }), op);
    expect([502, 503]).toContain(res.status);
  });

  it('IDT-07 a single-audience ID token with azp naming another client must be refused', async () => {
    op.behaviour.idToken = { claims: { azp: 'other-client' } };
    const { res } = await login(createRpApp({ issuer: op.issuer }), op);
    expect(res.status).toBe(502);
  });

  it('LEAK-04 an http baseUrl on a non-loopback host must be a startup error (without allowInsecureRequests)', () => {
    expect(() => oidc({ issuer: 'https://idp.example.com', clientId: 'a', clientSecret: 'b', baseUrl: 'http://app.example.com' })).toThrow(/baseUrl/);
  });
});
