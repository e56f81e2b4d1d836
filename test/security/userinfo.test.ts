/**
 * Security checklist §5.6: the userinfo request we send and the answers a hostile OP can give. A bad
 * answer fails the login (502/504) and stores nothing; good answers never let the OP rewrite identity.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { expectNotLoggedIn, login, loggedIn, storedAuths } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

function app(options: Record<string, unknown> = {}): RpApp {
  return createRpApp({ issuer: op.issuer, ...options }, 5, (a) => {
    a.get('/claims', (req, res) => res.json({ user: req.user ?? null, idTokenClaims: req.oidc?.idTokenClaims ?? null }));
    a.get('/probe', (req, res) => {
      const user = req.user as Record<string, unknown> | undefined;
      res.json({ isAdmin: user?.isAdmin ?? null, globalIsAdmin: ({} as Record<string, unknown>).isAdmin ?? null });
    });
    a.get('/userinfo-now', async (req, res, next) => {
      try {
        res.json(await req.oidc?.fetchUserInfo());
      } catch (err) {
        next(err);
      }
    });
  });
}

async function expectUserinfoFailure(rp: RpApp, status = 502, code = 'ERR_OIDC_USERINFO_FAILED'): Promise<void> {
  const { res, agent } = await login(rp, op);
  expect(res.status).toBe(status);
  expect(res.body.error).toBe(code);
  expect(op.counters.userinfo).toBe(1);
  await expectNotLoggedIn(rp, agent);
}

describe('userinfo', () => {
  it('UI-01 the access token travels only in the Authorization: Bearer header', async () => {
    const rp = app();
    await loggedIn(rp, op);
    const [call] = op.requests.filter((r) => r.endpoint === 'userinfo');
    const [auth] = await storedAuths(rp);
    expect(call?.headers.authorization).toBe(`Bearer ${auth?.accessToken}`);
    expect(call?.url).not.toMatch(/access_token|at-/);
    expect(call?.body).toBe('');
    expect(call?.method).toBe('GET');
  });

  it.each([
    ['no sub', '{"name":"x"}'],
    ['a numeric sub', '{"sub":1,"name":"x"}'],
    ['a null sub', '{"sub":null}'],
  ])('UI-03 userinfo with %s: 502, nothing stored', async (_name, body) => {
    op.behaviour.userinfoBody = body;
    await expectUserinfoFailure(app());
  });

  it('UI-02 req.oidc.fetchUserInfo() later also refuses another subject', async () => {
    const rp = app();
    const agent = await loggedIn(rp, op);
    op.behaviour.userinfoSub = 'mallory';
    const res = await agent.get('/userinfo-now');
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_USERINFO_FAILED');
  });

  it('UI-04 401 with WWW-Authenticate: 502', async () => {
    op.behaviour.userinfoStatus = 401;
    op.behaviour.userinfoHeaders = { 'www-authenticate': 'Bearer error="invalid_token", error_description="SECRET-OP-DETAIL"' };
    const rp = app();
    await expectUserinfoFailure(rp);
    expect(rp.errors[0]?.message).not.toContain('SECRET-OP-DETAIL');
  });

  it('UI-04 500: 502', async () => {
    op.behaviour.userinfoStatus = 500;
    await expectUserinfoFailure(app());
  });

  it('UI-04 a hanging userinfo endpoint: 504 within httpTimeout', async () => {
    op.behaviour.userinfoDelayMs = 10_000;
    const started = Date.now();
    await expectUserinfoFailure(app({ httpTimeout: 300 }), 504, 'ERR_OIDC_IDP_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('UI-06 userinfo cannot rewrite iss/sub, and the ID token claims stay those of the ID token', async () => {
    op.behaviour.userinfoClaims = { iss: 'https://evil.example', aud: 'other', nonce: 'n', exp: 1, auth_time: 2, acr: 'mfa' };
    const rp = app();
    const agent = await loggedIn(rp, op);
    const { body } = await agent.get('/claims').expect(200);
    expect(body.user.iss).toBe(op.issuer);
    expect(body.user.sub).toBe('user-1');
    expect(body.idTokenClaims).toMatchObject({ iss: op.issuer, aud: 'rp', sub: 'user-1' });
    expect(body.idTokenClaims.acr).toBeUndefined();
    expect(body.idTokenClaims.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('UI-07 __proto__ / constructor.prototype in userinfo pollute neither req.user nor Object.prototype', async () => {
    op.behaviour.userinfoBody = '{"sub":"user-1","__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}}}';
    const rp = app();
    const agent = await loggedIn(rp, op);
    expect((await agent.get('/probe').expect(200)).body).toEqual({ isAdmin: null, globalIsAdmin: null });
  });

  it('UI-08 distributed / aggregated claims are neither fetched nor merged', async () => {
    let hits = 0;
    const claimsServer = createServer((_req, res) => {
      hits += 1;
      res.end('{"roles":["admin"]}');
    });
    await new Promise<void>((resolve) => claimsServer.listen(0, '127.0.0.1', resolve));
    try {
      const endpoint = `http://127.0.0.1:${(claimsServer.address() as AddressInfo).port}/claims`;
      const aggregated = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"groups":["admin"]}').toString('base64url')}.`;
      op.behaviour.userinfoClaims = {
        _claim_names: { roles: 'src1', groups: 'src2' },
        _claim_sources: { src1: { endpoint, access_token: 'leak-me' }, src2: { JWT: aggregated } },
      };
      const rp = app();
      const agent = await loggedIn(rp, op);
      const { body } = await agent.get('/claims').expect(200);
      expect(hits).toBe(0);
      expect(body.user.roles).toBeUndefined();
      expect(body.user.groups).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => claimsServer.close(() => resolve()));
    }
  });

  it('UI-09 a signed (application/jwt) userinfo answer is not supported and fails closed: 502, nothing stored', async () => {
    op.behaviour.userinfoBody = await op.sign({ sub: 'user-1', iss: op.issuer, aud: 'rp', name: 'JWT User' });
    op.behaviour.userinfoContentType = 'application/jwt';
    await expectUserinfoFailure(app());
  });

  it.each([
    ['a text/html page', '<html><body>hi</body></html>', 'text/html'],
    ['a JSON array', '[{"sub":"user-1"}]', 'application/json'],
    ['JSON null', 'null', 'application/json'],
  ])('UI-10 %s: 502', async (_name, body, type) => {
    op.behaviour.userinfoBody = body;
    op.behaviour.userinfoContentType = type;
    await expectUserinfoFailure(app());
  });
});
