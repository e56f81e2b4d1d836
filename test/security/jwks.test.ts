/**
 * Security checklist §5.8 and IDT-20: the IdP's JWKS during a callback: rotation, outages, garbage,
 * floods of unknown kids (bounded refetches) and keys that disappear.
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { expectNotLoggedIn, login, startLogin } from './support.js';
import type { StartedLogin } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());
afterEach(() => {
  vi.useRealTimers();
});

async function expectLogin(rp: RpApp, status: number, code?: string): Promise<void> {
  const { res, agent } = await login(rp, op);
  expect(res.status).toBe(status);
  if (code) {
    expect(res.body.error).toBe(code);
    expect(op.counters.userinfo).toBe(0);
    await expectNotLoggedIn(rp, agent);
  }
}

describe('JWKS', () => {
  it('KEY-02 keys rotated right before the first ID token is signed: accepted', async () => {
    await op.rotateKeys();
    await expectLogin(createRpApp({ issuer: op.issuer }), 302);
  });

  it('KEY-03 JWKS 500 during the callback: 502, nothing stored; the next login works (no negative cache)', async () => {
    const rp = createRpApp({ issuer: op.issuer });
    op.behaviour.jwksStatus = 500;
    await expectLogin(rp, 502, 'ERR_OIDC_INVALID_ID_TOKEN');
    op.behaviour.jwksStatus = 200;
    op.counters.userinfo = 0;
    await expectLogin(rp, 302);
  });

  it('KEY-03 JWKS hanging during the callback: 504 within httpTimeout; the next login works', async () => {
    const rp = createRpApp({ issuer: op.issuer, httpTimeout: 300 });
    op.behaviour.jwksDelayMs = 10_000;
    const started = Date.now();
    await expectLogin(rp, 504, 'ERR_OIDC_IDP_TIMEOUT');
    expect(Date.now() - started).toBeLessThan(3000);
    op.behaviour.jwksDelayMs = 0;
    await expectLogin(rp, 302);
  });

  it.each([
    ['not JSON', 'keys: none'],
    ['"keys" not an array', '{"keys":{"kty":"RSA"}}'],
    ['only a symmetric key under the expected kid', '{"keys":[{"kty":"oct","kid":"rs-1","k":"cnAtc2VjcmV0"}]}'],
    ['no keys at all', '{"keys":[]}'],
  ])('KEY-04 a JWKS with %s: 502, nothing stored', async (_name, body) => {
    op.behaviour.jwksBody = body;
    await expectLogin(createRpApp({ issuer: op.issuer }), 502, 'ERR_OIDC_INVALID_ID_TOKEN');
  });

  it('KEY-04 a JWKS entry carrying private key members is never used to verify', async () => {
    const leaked = await generateKeyPair('RS256', { extractable: true });
    op.behaviour.jwksExtraKeys = [{ ...(await exportJWK(leaked.privateKey)), kid: 'leaky', alg: 'RS256', use: 'sig' }];
    op.behaviour.idToken = { customKey: { privateKey: leaked.privateKey, kid: 'leaky' } };
    await expectLogin(createRpApp({ issuer: op.issuer }), 502, 'ERR_OIDC_INVALID_ID_TOKEN');
  });

  it.each([
    ['a 30 s jwksCooldown, sequential', 30, false],
    ['the default jwksCooldown, in parallel', undefined, true],
  ] as const)('IDT-20 / KEY-05 a flood of 20 callbacks with unknown kids (%s): all refused, JWKS fetched at most twice', async (_name, jwksCooldown, parallel) => {
    const rp = createRpApp({ issuer: op.issuer, ...(jwksCooldown !== undefined ? { jwksCooldown } : {}) });
    const pending: StartedLogin[] = [];
    for (let i = 0; i < 20; i++) pending.push(await startLogin(rp, op));
    op.behaviour.idToken = { kid: `unknown-${randomUUID()}` };
    const attempt = async (p: StartedLogin) => (await p.agent.get(p.callbackPath)).status;
    const statuses = parallel ? await Promise.all(pending.map(attempt)) : await pending.reduce<Promise<number[]>>(async (acc, p) => [...(await acc), await attempt(p)], Promise.resolve([]));
    expect(statuses.every((s) => s === 502)).toBe(true);
    expect(op.counters.jwks).toBeLessThanOrEqual(2);
  });

  it('KEY-06 a key removed from the JWKS stops verifying once the cached JWKS has expired', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());
    const rp = createRpApp({ issuer: op.issuer });
    await expectLogin(rp, 302);
    await op.rotateKeys();
    op.behaviour.idToken = { signWith: 'previous' };
    vi.setSystemTime(Date.now() + 11 * 60_000);
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    await agent.get('/api/me').expect(401);
    expect(op.counters.jwks).toBe(2);
  });
});
