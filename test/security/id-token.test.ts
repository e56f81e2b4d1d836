/**
 * Security checklist §5.5: ID tokens from the token endpoint that must be refused (502, no userinfo call,
 * nothing stored) or accepted. Complements test/express/callback-negative.test.ts.
 */
import { createSign, generateKeyPairSync } from 'node:crypto';
import { exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp, IdTokenMutation } from '../helpers/hostile-op.js';
import { createRpApp, localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { expectNotLoggedIn, login, nowSec, startLogin, storedAuths } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function expectRejected(rp: RpApp): Promise<void> {
  const { res, agent } = await login(rp, op);
  expect(res.status).toBe(502);
  expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
  expect(op.counters.userinfo).toBe(0);
  await expectNotLoggedIn(rp, agent);
}

async function expectAccepted(rp: RpApp): Promise<request.Agent> {
  const { res, agent } = await login(rp, op);
  expect(res.status).toBe(302);
  await agent.get('/api/me').expect(200);
  return agent;
}

/** Claims of a correct ID token for the pending login whose authorization URL is given. */
function claimsFor(authorizeUrl: URL): Record<string, unknown> {
  const now = nowSec();
  return { iss: op.issuer, sub: 'user-1', aud: 'rp', iat: now, exp: now + 600, nonce: authorizeUrl.searchParams.get('nonce') };
}

describe('ID token claims and headers', () => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRpApp({ issuer: op.issuer, jwksCooldown: 0 });
  });

  const rejected: Array<[string, string, IdTokenMutation]> = [
    ['IDT-05', 'no iss', { claims: { iss: undefined } }],
    ['IDT-06', 'no aud', { claims: { aud: undefined } }],
    ['IDT-07', 'aud [client, other] without azp', { claims: { aud: ['rp', 'other'] } }],
    ['IDT-07', 'aud [client, other] with azp=other', { claims: { aud: ['rp', 'other'], azp: 'other' } }],
    ['IDT-11', 'no exp', { claims: { exp: undefined } }],
    ['IDT-11', 'exp 90 s past (tolerance 60 s)', { claims: { exp: nowSec() - 90 } }],
    ['IDT-12', 'nbf 120 s ahead', { claims: { nbf: nowSec() + 120 } }],
    ['IDT-13', 'iat a week old', { claims: { iat: nowSec() - 7 * 86400 } }],
    ['IDT-16', 'HS256 keyed with the public JWK bytes', { alg: 'HS256', hs256Key: 'public_key_jwk' }],
    ['IDT-25', 'a logout token shape (events, no nonce)', { claims: { nonce: undefined, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } } }],
  ];
  it.each(rejected)('%s rejects an ID token with %s', async (_id, _name, mutation) => {
    op.behaviour.idToken = mutation;
    await expectRejected(rp);
  });

  it.each([
    ['IDT-07', 'aud [client, other] with azp=client', { claims: { aud: ['rp', 'other'], azp: 'rp' } }],
    ['IDT-08', 'aud as a one-element array', { claims: { aud: ['rp'] } }],
    ['IDT-11', 'exp 20 s past (within the tolerance)', { claims: { exp: nowSec() - 20 } }],
  ] as Array<[string, string, IdTokenMutation]>)('%s accepts an ID token with %s', async (_id, _name, mutation) => {
    op.behaviour.idToken = mutation;
    await expectAccepted(rp);
  });

  it('IDT-15 alg none is refused even when the IdP metadata lists "none"', async () => {
    op.behaviour.discoveryOverrides = { id_token_signing_alg_values_supported: ['none', 'RS256'] };
    op.behaviour.idToken = { alg: 'none' };
    await expectRejected(rp);
  });

  it('IDT-17 an encrypted (JWE) ID token without decryption configured: 502', async () => {
    const header = Buffer.from('{"alg":"RSA-OAEP","enc":"A128GCM","kid":"rs-1"}').toString('base64url');
    op.behaviour.tokenExtra = { id_token: `${header}.AAAA.AAAA.AAAA.AAAA` };
    await expectRejected(rp);
  });

  it('IDT-18 no kid and a JWKS with a single signing key: accepted', async () => {
    op.behaviour.jwksIncludeEs = false;
    op.behaviour.idToken = { kid: null };
    await expectAccepted(rp);
  });

  it('IDT-19 no kid and two RSA keys in the JWKS: refused (key selection is ambiguous; we do not try each key)', async () => {
    await op.rotateKeys();
    op.behaviour.jwksIncludePrevious = true;
    op.behaviour.idToken = { kid: null };
    await expectRejected(rp);
  });

  it('IDT-21 jwk / jku / x5u headers pointing at the attacker\'s key are ignored', async () => {
    const attacker = await generateKeyPair('RS256', { extractable: true });
    const jwk = { ...(await exportJWK(attacker.publicKey)), kid: op.currentKid(), alg: 'RS256' };
    op.behaviour.idToken = {
      customKey: { privateKey: attacker.privateKey, kid: op.currentKid() },
      header: { jwk, jku: `${op.issuer}/attacker-jwks`, x5u: `${op.issuer}/attacker.pem` },
    };
    await expectRejected(rp);
    expect(op.requests.filter((r) => r.url.includes('attacker'))).toHaveLength(0);
  });

  it('IDT-22 an ID token signed with a 1024-bit RSA key that the JWKS publishes: 502', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    op.behaviour.jwksExtraKeys = [{ ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak', alg: 'RS256', use: 'sig' }];
    const started = await startLogin(rp, op);
    const header = Buffer.from('{"alg":"RS256","kid":"weak","typ":"JWT"}').toString('base64url');
    const payload = Buffer.from(JSON.stringify(claimsFor(started.authorizeUrl))).toString('base64url');
    const signature = createSign('RSA-SHA256').update(`${header}.${payload}`).sign(weak.privateKey).toString('base64url');
    op.behaviour.tokenExtra = { id_token: `${header}.${payload}.${signature}` };
    const res = await started.agent.get(started.callbackPath);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    expect(op.counters.userinfo).toBe(0);
  });

  it('IDT-24 a valid ID token replayed from an earlier login (other nonce) is refused', async () => {
    await expectAccepted(rp);
    const [earlier] = await storedAuths(rp);
    op.behaviour.tokenExtra = { id_token: earlier?.idToken };
    const { res } = await login(rp, op);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
  });

  it('IDT-24 the code of an earlier login replayed with a new state: invalid_grant, no login', async () => {
    const first = await login(rp, op);
    const oldCode = new URL(first.callbackUrl).searchParams.get('code') as string;
    const second = await startLogin(rp, op);
    const replay = new URL(second.callbackUrl);
    replay.searchParams.set('code', oldCode);
    const res = await second.agent.get(localPath(replay.href));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_GRANT');
    await second.agent.get('/api/me').expect(401);
  });
});

describe('IDT-23 max_age (step-up) and auth_time', () => {
  function stepUpApp(): RpApp {
    return createRpApp({ issuer: op.issuer }, 5, (app, auth) => {
      app.get('/sensitive', auth.requireAuth({ maxAge: 300 }), (_req, res) => res.json({ ok: true }));
    });
  }

  it.each([
    ['no auth_time', { auth_time: undefined }],
    ['an auth_time older than max_age', { auth_time: nowSec() - 3600 }],
  ])('IDT-23 a step-up login answered with %s is refused (502, no userinfo call) and the route stays closed', async (_name, claims) => {
    const rp = stepUpApp();
    op.behaviour.idToken = { claims: { auth_time: nowSec() - 3600 } };
    const { agent } = await login(rp, op);
    const stepUp = await agent.get('/sensitive').set('Accept', 'text/html').expect(302);
    expect(new URL(stepUp.headers.location as string).searchParams.get('max_age')).toBe('300');
    op.behaviour.idToken = { claims };
    const userinfoBefore = op.counters.userinfo;
    const res = await agent.get(localPath(await op.authorize(stepUp.headers.location as string)));
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    expect(op.counters.userinfo).toBe(userinfoBefore);
    expect((await agent.get('/sensitive').set('Accept', 'application/json')).status).toBe(401);
  });
});
