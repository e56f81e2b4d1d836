/**
 * Security checklist §5.4: the token request we send, and what a hostile or broken token endpoint
 * answers. Failures: the right status, no userinfo call, nothing stored, no retry.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireScopes } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, RP_BASE_URL } from '../helpers/rp-app.js';
import { captureLogger, expectNotLoggedIn, login } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

describe('the token request', () => {
  it('TOK-01 client_secret_basic with ": % + space &" in the secret: the IdP decodes the same secret', async () => {
    const secret = 'p:a%s+s w&=/';
    const picky = await startHostileOp({ clientId: 'rp', clientSecret: secret });
    try {
      picky.behaviour.allowedClientAuth = ['client_secret_basic'];
      const rp = createRpApp({ issuer: picky.issuer, clientSecret: secret });
      const { res } = await login(rp, picky);
      expect(res.status).toBe(302);
      expect(picky.tokenCalls.map((c) => `${c.clientAuth}/${c.result}`)).toEqual(['client_secret_basic/ok']);
    } finally {
      await picky.close();
    }
  });

  it('TOK-03 grant_type, code, a verifier matching the S256 challenge, the identical redirect_uri, and no secret in the body', async () => {
    const rp = createRpApp({ issuer: op.issuer });
    const { res, authorizeUrl, callbackUrl } = await login(rp, op);
    expect(res.status).toBe(302);
    const params = op.tokenCalls[0]?.params ?? {};
    expect(params.grant_type).toBe('authorization_code');
    expect(params.code).toBe(new URL(callbackUrl).searchParams.get('code'));
    expect(params.redirect_uri).toBe(authorizeUrl.searchParams.get('redirect_uri'));
    expect(params.redirect_uri).toBe(`${RP_BASE_URL}/callback`);
    const challenge = createHash('sha256').update(params.code_verifier ?? '').digest('base64url');
    expect(challenge).toBe(authorizeUrl.searchParams.get('code_challenge'));
    expect(params.client_secret).toBeUndefined();
    expect(op.tokenCalls[0]?.clientAuth).toBe('client_secret_basic');
  });
});

describe('hostile token endpoint answers', () => {
  it('TOK-04 invalid_grant: a login failure (400 ERR_OIDC_INVALID_GRANT), nothing stored, no retry', async () => {
    op.behaviour.tokenStatus = 400;
    op.behaviour.tokenBody = '{"error":"invalid_grant","error_description":"code expired"}';
    const rp = createRpApp({ issuer: op.issuer });
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_GRANT');
    expect(op.counters.token).toBe(1);
    expect(op.counters.userinfo).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('TOK-05 a 503 text/plain answer: 502', async () => {
    op.behaviour.tokenStatus = 503;
    const rp = createRpApp({ issuer: op.issuer });
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    await expectNotLoggedIn(rp, agent);
  });

  it('TOK-06 a 302 to another host is not followed: 502, the target is never hit', async () => {
    let hits = 0;
    const trap = createServer((_req, res) => {
      hits += 1;
      res.end('{}');
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    try {
      op.behaviour.tokenStatus = 302;
      op.behaviour.tokenBody = '';
      op.behaviour.tokenHeaders = { location: `http://127.0.0.1:${(trap.address() as AddressInfo).port}/token` };
      const rp = createRpApp({ issuer: op.issuer });
      const { res, agent } = await login(rp, op);
      expect(res.status).toBe(502);
      expect(hits).toBe(0);
      await expectNotLoggedIn(rp, agent);
    } finally {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  });

  it('TOK-08 slowloris (headers at once, then one byte every 50 ms): 504 within httpTimeout', async () => {
    op.behaviour.tokenTrickleMs = 50;
    const rp = createRpApp({ issuer: op.issuer, httpTimeout: 400 });
    const started = Date.now();
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(504);
    expect(res.body.error).toBe('ERR_OIDC_IDP_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(2500);
    await expectNotLoggedIn(rp, agent);
  });

  it.each([
    ['malformed JSON', () => (op.behaviour.tokenBody = '{"access_token":')],
    ['a JSON array', () => (op.behaviour.tokenBody = '[]')],
    ['no access_token', () => (op.behaviour.tokenExtra = { access_token: undefined })],
    ['a numeric access_token', () => (op.behaviour.tokenExtra = { access_token: 42 })],
    ['token_type "mac"', () => (op.behaviour.tokenType = 'mac')],
    ['expires_in "abc"', () => (op.behaviour.tokenExtra = { expires_in: 'abc' })],
    ['an id_token that is not a JWT', () => (op.behaviour.tokenExtra = { id_token: 'not-a-jwt' })],
  ])('TOK-10 %s: 502, no userinfo call, nothing stored', async (_name, setup) => {
    setup();
    const rp = createRpApp({ issuer: op.issuer });
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(502);
    expect(res.body.error).toMatch(/^ERR_OIDC_(TOKEN_REQUEST_FAILED|INVALID_ID_TOKEN)$/);
    expect(op.counters.userinfo).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('TOK-11 token_type "BEARER", no expires_in and no scope are accepted; the granted scope is the requested one', async () => {
    op.behaviour.tokenType = 'BEARER';
    op.behaviour.tokenExtra = { expires_in: undefined, scope: undefined };
    const rp = createRpApp({ issuer: op.issuer }, 5, (app) => {
      app.get('/email', requireScopes('openid', 'email'), (_req, res) => res.json({ ok: true }));
      app.get('/admin', requireScopes('admin'), (_req, res) => res.json({ ok: true }));
    });
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(302);
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.expiresAt).toBeUndefined();
    await agent.get('/email').expect(200);
    await agent.get('/admin').expect(403);
  });

  it('TOK-13 401 invalid_client with WWW-Authenticate: 502, and the client secret never reaches the logs or the page', async () => {
    op.behaviour.allowedClientAuth = ['client_secret_post'];
    const { lines, logger } = captureLogger();
    const rp = createRpApp({ issuer: op.issuer, logger });
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    expect(op.tokenCalls[0]?.result).toBe('invalid_client');
    expect(lines.join('\n')).toContain('ERR_OIDC_TOKEN_REQUEST_FAILED');
    expect(lines.join('\n')).not.toContain('rp-secret');
    expect(res.text).not.toContain('rp-secret');
    expect(rp.errors[0]?.message).not.toContain('rp-secret');
    // Names the likely fix, for the developer reading the log (a 502 message is not shown to the user).
    expect(rp.errors[0]?.message).toMatch(/HTTP 401\).*"clientSecret".*"clientAuthMethod"/);
    await expectNotLoggedIn(rp, agent);
  });
});
