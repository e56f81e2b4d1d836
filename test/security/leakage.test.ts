/**
 * Security checklist §5.17 and SES-06 / R5: no token, code, verifier or secret in any response we send
 * or any line we log, whatever fails; error messages carry codes, never the IdP's internals.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, localPath } from '../helpers/rp-app.js';
import { captureLogger, login, nowSec, storedAuths } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** Every secret the OP and the RP exchanged so far: codes, verifiers, nonces, states, tokens, the client secret. */
function secretsSoFar(extra: string[] = []): string[] {
  const fromLogins = op.logins.flatMap((l) => [l.code, l.nonce ?? '', l.state]);
  const fromCalls = op.tokenCalls.flatMap((c) => [c.params.code_verifier ?? '', c.params.refresh_token ?? '', c.params.code ?? '']);
  return [...fromLogins, ...fromCalls, ...extra, 'rp-secret'].filter((s) => s.length >= 8);
}

const TOKEN_SHAPES = /\b(at|rt)-[\w-]{12,}|eyJ[\w-]{10,}\.eyJ/;

describe('leakage', () => {
  it('SES-06 no token in any header or body of a whole session: login, pages, API, refresh, logout', async () => {
    let offset = 0;
    op.behaviour.accessTokenTtl = 30;
    const rp = createRpApp({ issuer: op.issuer, clock: () => Date.now() + offset });
    const seen: request.Response[] = [];
    const agent = request.agent(rp.app);
    seen.push(await agent.get('/login').expect(302));
    const back = await op.authorize(seen[0]?.headers.location as string);
    seen.push(await agent.get(localPath(back)).expect(302));
    const [first] = await storedAuths(rp);
    for (const path of ['/', '/profile', '/api/me']) seen.push(await agent.get(path).expect(200));
    offset = 31_000;
    seen.push(await agent.get('/api/me').expect(200));
    const [second] = await storedAuths(rp);
    expect(second?.accessToken).not.toBe(first?.accessToken);
    seen.push(await agent.get('/logout').expect(302));
    const tokens = [first, second].flatMap((a) => [a?.accessToken, a?.refreshToken, a?.idToken]).filter((t): t is string => !!t);
    for (const res of seen) {
      const visible = JSON.stringify(res.headers) + (res.text ?? '');
      for (const token of tokens) expect(visible).not.toContain(token);
      expect(visible).not.toMatch(TOKEN_SHAPES);
    }
    const cookies = seen.flatMap((r) => (r.headers['set-cookie'] as unknown as string[] | undefined) ?? []);
    expect(cookies.every((c) => /^sid=s%3A[\w-]+\.[\w%+/]+;/.test(c))).toBe(true);
  });

  it('LEAK-02 / R5 whatever fails, the logs carry codes and never a token, code, verifier, nonce, state or the secret', async () => {
    const { lines, logger } = captureLogger();
    let offset = 0;
    const rp = createRpApp({ issuer: op.issuer, logger, backchannelLogout: true, idpLogout: true, clock: () => Date.now() + offset });
    const failures: Array<() => void> = [
      () => (op.behaviour.tokenType = 'mac'),
      () => (op.behaviour.idToken = { claims: { aud: 'someone-else' } }),
      () => (op.behaviour.idToken = { badSignature: true }),
      () => (op.behaviour.userinfoSub = 'mallory'),
      () => (op.behaviour.tokenBody = '{"error":"invalid_grant","error_description":"code-XYZ was used by at-leaky"}'),
      () => (op.behaviour.authorizeError = { error: 'access_denied', error_description: 'eyJhbGciOi.leaked' }),
      () => (op.behaviour.tokenExtra = { expires_in: 'abc' }),
    ];
    for (const fail of failures) {
      op.behaviour.tokenStatus = 200;
      fail();
      if (op.behaviour.tokenBody) op.behaviour.tokenStatus = 400;
      await login(rp, op);
      Object.assign(op.behaviour, { tokenType: 'Bearer', idToken: {}, userinfoSub: undefined, tokenBody: undefined, authorizeError: undefined, tokenExtra: {}, tokenStatus: 200 });
    }
    op.behaviour.accessTokenTtl = 30;
    const { agent } = await login(rp, op);
    const [auth] = await storedAuths(rp);
    op.behaviour.refreshIdToken = { claims: { sub: 'mallory' } };
    offset = 31_000;
    await agent.get('/api/me');
    op.behaviour.revocationStatus = 500;
    const again = await login(rp, op);
    await again.agent.get('/logout');
    await request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: await op.sign({ iss: op.issuer, aud: 'rp', iat: nowSec(), jti: randomUUID(), sid: 'x' }) });
    const log = lines.join('\n');
    expect(log).toMatch(/ERR_OIDC_INVALID_ID_TOKEN/);
    expect(log).toMatch(/ERR_OIDC_USERINFO_FAILED/);
    expect(log).toMatch(/ERR_OIDC_INVALID_LOGOUT_TOKEN/);
    for (const secret of secretsSoFar([auth?.accessToken ?? '', auth?.refreshToken ?? '', auth?.idToken ?? ''])) expect(log).not.toContain(secret);
    expect(log).not.toMatch(TOKEN_SHAPES);
    expect(log).not.toMatch(/eyJhbGciOi|code-XYZ|at-leaky/);
  });

  it('LEAK-03 error messages name the step and the library code, never the IdP\'s own text, and 5xx messages are not exposed', async () => {
    op.behaviour.tokenStatus = 400;
    op.behaviour.tokenBody = JSON.stringify({ error: 'invalid_request', error_description: 'SECRET-OP-INTERNAL at Db.query (/srv/op/db.js:12)' });
    const rp = createRpApp({ issuer: op.issuer });
    const { res } = await login(rp, op);
    expect(res.status).toBe(502);
    expect(res.text).not.toMatch(/SECRET-OP-INTERNAL|db\.js|at \w+ \(/);
    expect(rp.errors[0]?.message).not.toContain('SECRET-OP-INTERNAL');
    expect(res.body.message).toBe('error');
  });
});
