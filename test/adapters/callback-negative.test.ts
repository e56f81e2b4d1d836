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
afterAll(async () => {
  await op.close();
});
beforeEach(() => op.reset());

async function login(rp: RpApp, loginPath = '/login') {
  const agent = request.agent(rp.app);
  const start = await agent.get(loginPath).expect(302);
  const callbackUrl = await op.authorize(start.headers.location as string);
  const res = await agent.get(localPath(callbackUrl));
  return { agent, res, callbackUrl };
}

/** R1: nothing of a login in the store; a guarded request is still anonymous. */
async function expectNotLoggedIn(rp: RpApp, agent: request.Agent): Promise<void> {
  const stored = JSON.stringify(await rp.sessions());
  expect(stored).not.toMatch(/"auth"|idToken|accessToken|refreshToken/);
  await agent.get('/api/me').expect(401);
}

describe.each(ADAPTERS)('callback against a hostile OP (%s)', (adapter) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRp(adapter, { issuer: op.issuer, jwksCooldown: 0 });
  });

  it('logs in against the well-behaved OP (control case)', async () => {
    const { res, agent } = await login(rp);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/');
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.user.sub).toBe('user-1');
    expect(op.counters.userinfo).toBe(1);
  });

  const idTokenCases: Array<[string, Parameters<typeof Object.assign>[1]]> = [
    ['a bad signature', { badSignature: true }],
    ['alg none', { alg: 'none' }],
    ['HS256 keyed with the client secret', { alg: 'HS256', hs256Key: 'client_secret' }],
    ['HS256 keyed with the public key', { alg: 'HS256', hs256Key: 'public_key' }],
    ['ES256 instead of the pinned RS256', { alg: 'ES256' }],
    ['a key that is not in the JWKS', { signWith: 'other-rs' }],
    ['a wrong aud', { claims: { aud: 'someone-else' } }],
    ['a wrong iss', { claims: { iss: 'https://evil.example' } }],
    ['an expired exp', { claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }],
    ['no iat', { claims: { iat: undefined } }],
    ['an iat a day in the future', { claims: { iat: Math.floor(Date.now() / 1000) + 86400 } }],
    ['an iat ten years old', { claims: { iat: Math.floor(Date.now() / 1000) - 10 * 365 * 86400 } }],
    ['no sub', { claims: { sub: undefined } }],
    ['a different nonce', { claims: { nonce: 'not-the-nonce' } }],
    ['no nonce', { claims: { nonce: undefined } }],
    ['a crit header', { crit: true }],
  ];

  it.each(idTokenCases)('rejects an ID token with %s: 502, nothing stored, no userinfo call', async (_name, mutation) => {
    op.behaviour.idToken = mutation as never;
    const { res, agent } = await login(rp);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    expect(op.counters.userinfo).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('rejects a token response without an ID token', async () => {
    op.behaviour.omitIdToken = true;
    const { res, agent } = await login(rp);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    await expectNotLoggedIn(rp, agent);
  });

  it('rejects userinfo for another subject', async () => {
    op.behaviour.userinfoSub = 'mallory';
    const { res, agent } = await login(rp);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_USERINFO_FAILED');
    await expectNotLoggedIn(rp, agent);
  });

  it.each([['wrong'], ['missing']] as const)('rejects a %s RFC 9207 iss parameter before calling the token endpoint', async (variant) => {
    op.behaviour.issParam = variant;
    const { res, agent } = await login(rp);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('answers 502 when the token endpoint fails with a 500', async () => {
    op.behaviour.tokenStatus = 500;
    const { res, agent } = await login(rp);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    await expectNotLoggedIn(rp, agent);
  });

  it('answers 502 when the token endpoint returns HTML', async () => {
    op.behaviour.tokenBody = '<html>oops</html>';
    op.behaviour.tokenContentType = 'text/html';
    const { res } = await login(rp);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
  });

  it('answers 504 when the token endpoint hangs past httpTimeout, without hanging', async () => {
    rp = createRp(adapter, { issuer: op.issuer, httpTimeout: 300 });
    op.behaviour.tokenDelayMs = 10_000;
    const started = Date.now();
    const { res, agent } = await login(rp);
    expect(res.status).toBe(504);
    expect(res.body.error).toBe('ERR_OIDC_IDP_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(5000);
    await expectNotLoggedIn(rp, agent);
  });

  it('maps error=access_denied to 401 and does not echo the description', async () => {
    op.behaviour.authorizeError = { error: 'access_denied', error_description: '<script>alert(1)</script>' };
    const { res, agent } = await login(rp);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_ACCESS_DENIED');
    expect(res.text).not.toContain('<script>');
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('rejects a state that is not ours without calling the IdP, and keeps the real pending login', async () => {
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const res = await agent.get('/callback?code=x&state=forged&iss=' + encodeURIComponent(op.issuer));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
    expect(op.counters.token).toBe(0);
    const callbackUrl = await op.authorize(start.headers.location as string);
    await agent.get(localPath(callbackUrl)).expect(302);
    await agent.get('/api/me').expect(200);
  });

  it('rejects a callback in a browser that has no session', async () => {
    const { callbackUrl } = await login(rp);
    const stranger = await request(rp.app).get(localPath(callbackUrl));
    expect(stranger.status).toBe(400);
    // Told apart from an unknown state: the browser sent no session cookie back.
    expect(stranger.body.error).toBe('ERR_OIDC_NO_SESSION_COOKIE');
  });

  it('rejects a replayed callback', async () => {
    const { agent, callbackUrl } = await login(rp);
    const replay = await agent.get(localPath(callbackUrl));
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
    expect(op.counters.token).toBe(1);
  });

  it('rejects a repeated state or code parameter', async () => {
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const callbackUrl = new URL(await op.authorize(start.headers.location as string));
    const res = await agent.get(localPath(callbackUrl.href) + '&state=other');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(op.counters.token).toBe(0);
  });

  it('rejects a callback with no state', async () => {
    const res = await request(rp.app).get('/callback?code=abc');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
  });

  it('uses the configured redirect_uri at the token endpoint, whatever Host / X-Forwarded-* say', async () => {
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const callbackUrl = await op.authorize(start.headers.location as string);
    await agent
      .get(localPath(callbackUrl))
      .set('Host', 'attacker.example:9999')
      .set('X-Forwarded-Host', 'attacker.example')
      .set('X-Forwarded-Proto', 'https')
      .expect(302);
    const tokenRequest = op.requests.find((r) => r.endpoint === 'token');
    expect(new URLSearchParams(tokenRequest?.body).get('redirect_uri')).toBe('http://127.0.0.1:3000/callback');
  });

  it('accepts a login after the IdP rotated its signing key (refetch on unknown kid)', async () => {
    await login(rp);
    await op.rotateKeys();
    const { res } = await login(rp);
    expect(res.status).toBe(302);
  });

  it('never logs tokens, codes or the verifier', async () => {
    const lines: string[] = [];
    const log = (message: string, fields?: Record<string, unknown>) => lines.push(message + ' ' + JSON.stringify(fields ?? {}));
    rp = createRp(adapter, { issuer: op.issuer, logger: { debug: log, info: log, warn: log, error: log } });
    const ok = await login(rp);
    op.behaviour.idToken = { claims: { aud: 'other' } };
    await login(rp);
    const code = new URL(ok.callbackUrl).searchParams.get('code') as string;
    const secrets = [code, 'rp-secret', ...op.requests.filter((r) => r.endpoint === 'token').map((r) => new URLSearchParams(r.body).get('code_verifier') ?? 'x')];
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of secrets) expect(lines.join('\n')).not.toContain(secret);
    expect(lines.join('\n')).not.toMatch(/eyJ/);
  });
});

describe('missing express-session', () => {
  it('fails with a clear error naming the fix', async () => {
    const express = (await import('express')).default;
    const { oidc } = await import('../../lib/express/index.js');
    const app = express();
    app.use(oidc({ issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: 'http://127.0.0.1:3000' }));
    app.use(((err, _req, res, _next) => res.status(err.status).json({ error: err.code, message: err.message })) as import('express').ErrorRequestHandler);
    const res = await request(app).get('/login');
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('ERR_OIDC_NO_SESSION');
    expect(res.body.message).toContain('express-session');
  });
});
