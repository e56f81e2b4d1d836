/**
 * Self-test of the hostile fake OP, driven through openid-client v6 directly.
 */
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';

const CLIENT_ID = 'rp-client';
const CLIENT_SECRET = 'rp secret:+/&%'; // exercises Basic form-urlencoding
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

let op: HostileOp;

beforeAll(async () => {
  op = await startHostileOp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
});
afterAll(async () => {
  await op.close();
});
beforeEach(() => {
  op.reset();
});

interface Setup {
  metadata?: Partial<client.ClientMetadata>;
  auth?: client.ClientAuth;
  nonRepudiation?: boolean;
}

async function configure(setup: Setup = {}): Promise<client.Configuration> {
  const config = await client.discovery(
    new URL(op.issuer),
    CLIENT_ID,
    { client_secret: CLIENT_SECRET, ...setup.metadata },
    setup.auth,
    { execute: [client.allowInsecureRequests] },
  );
  if (setup.nonRepudiation) client.enableNonRepudiationChecks(config);
  return config;
}

async function startLogin(config: client.Configuration) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const expectedNonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
  });
  const callback = new URL(await op.authorize(url));
  return { callback, checks: { pkceCodeVerifier, expectedState, expectedNonce, idTokenExpected: true } };
}

async function login(setup: Setup = {}) {
  const config = await configure(setup);
  const { callback, checks } = await startLogin(config);
  return client.authorizationCodeGrant(config, callback, checks);
}

/** openid-client wraps most failures in ClientError('invalid response encountered', { cause }) */
async function failure(p: Promise<unknown>): Promise<{ name: string; code: string; message: string; error?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; code?: string; message: string; cause?: unknown; error?: string };
    const cause = e.cause instanceof Error ? e.cause.message : '';
    return { name: e.name, code: e.code ?? '', message: `${e.message} | ${cause}`, error: e.error };
  }
  throw new Error('expected the promise to reject');
}

describe('hostile-op (correct defaults)', () => {
  it('a good login passes, with non-repudiation checks, and everything is counted and recorded', async () => {
    const tokens = await login({ nonRepudiation: true });
    const claims = tokens.claims();
    expect(claims?.sub).toBe('user-1');
    expect(claims?.iss).toBe(op.issuer);
    expect(claims?.sid).toBe(op.logins[0]?.sid);
    expect(claims?.nonce).toBe(op.logins[0]?.nonce);
    expect(tokens.refresh_token).toBeTypeOf('string');
    expect(decodeProtectedHeader(tokens.id_token ?? '').kid).toBe(op.currentKid());
    expect(op.counters).toMatchObject({ discovery: 1, authorization: 1, token: 1, jwks: 1, userinfo: 0 });
    // openid-client's default client auth with a client_secret is client_secret_post
    expect(op.tokenCalls).toMatchObject([{ grantType: 'authorization_code', clientAuth: 'client_secret_post', result: 'ok' }]);
    expect(op.requests.map((r) => r.endpoint)).toEqual(['discovery', 'authorization', 'token', 'jwks']);

    const config = await configure();
    const info = await client.fetchUserInfo(config, tokens.access_token, 'user-1');
    expect(info.email).toBe('user-1@example.test');
    expect(op.counters.userinfo).toBe(1);
  });

  it('refresh rotates the refresh token (Basic auth); refreshError and sub mismatch surface', async () => {
    const config = await configure({ auth: client.ClientSecretBasic(CLIENT_SECRET) });
    const { callback, checks } = await startLogin(config);
    const first = await client.authorizationCodeGrant(config, callback, checks);
    const second = await client.refreshTokenGrant(config, first.refresh_token ?? '');
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(second.claims()?.sub).toBe('user-1');
    expect(op.tokenCalls.map((c) => `${c.grantType}/${c.clientAuth}`)).toEqual([
      'authorization_code/client_secret_basic',
      'refresh_token/client_secret_basic',
    ]);
    // the rotated-out refresh token is dead
    expect(await failure(client.refreshTokenGrant(config, first.refresh_token ?? ''))).toMatchObject({ error: 'invalid_grant' });
    op.behaviour.refreshError = 'invalid_grant';
    expect(await failure(client.refreshTokenGrant(config, second.refresh_token ?? ''))).toMatchObject({ error: 'invalid_grant' });

    op.behaviour.userinfoSub = 'user-2';
    const f = await failure(client.fetchUserInfo(config, second.access_token, 'user-1'));
    expect(f.code).toBe('OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED');
  });
});

describe('hostile-op (mutations are visible to the RP)', () => {
  it('badSignature: accepted without non-repudiation checks, rejected with them', async () => {
    op.behaviour.idToken = { badSignature: true };
    await expect(login()).resolves.toBeDefined(); // openid-client trusts TLS by default
    const f = await failure(login({ nonRepudiation: true }));
    expect(f.message).toMatch(/JWT signature verification failed/);
  });

  it('alg none is rejected when the client pins id_token_signed_response_alg RS256', async () => {
    op.behaviour.idToken = { alg: 'none' };
    const f = await failure(login({ metadata: { id_token_signed_response_alg: 'RS256' } }));
    expect(f.message).toMatch(/unexpected JWT "alg" header parameter/);
  });

  it('wrong aud is rejected', async () => {
    op.behaviour.idToken = { claims: { aud: 'someone-else' } };
    const f = await failure(login());
    expect(f.message).toMatch(/"aud" \(audience\)/);
  });

  it('code replay gives invalid_grant', async () => {
    const config = await configure();
    const { callback, checks } = await startLogin(config);
    await client.authorizationCodeGrant(config, callback, checks);
    const f = await failure(client.authorizationCodeGrant(config, callback, checks));
    expect(f).toMatchObject({ name: 'ResponseBodyError', error: 'invalid_grant' });
    expect(op.tokenCalls.map((c) => c.result)).toEqual(['ok', 'invalid_grant']);
  });

  it('a wrong PKCE verifier is rejected', async () => {
    const config = await configure();
    const { callback, checks } = await startLogin(config);
    const f = await failure(
      client.authorizationCodeGrant(config, callback, { ...checks, pkceCodeVerifier: client.randomPKCECodeVerifier() }),
    );
    expect(f).toMatchObject({ error: 'invalid_grant' });
  });

  it('token endpoint 500 with a text body is an error', async () => {
    op.behaviour.tokenStatus = 500;
    const f = await failure(login());
    expect(f.code).toBe('OAUTH_RESPONSE_IS_NOT_CONFORM');
    expect(op.counters.token).toBe(1);
  });

  it('iss / state / error in the authorization response', async () => {
    op.behaviour.issParam = 'wrong';
    expect((await failure(login())).message).toMatch(/unexpected "iss"/);
    op.behaviour.issParam = 'missing';
    expect((await failure(login())).message).toMatch(/"iss" \(issuer\) missing/);
    op.behaviour.issParam = 'correct';
    op.behaviour.stateParam = 'wrong';
    expect((await failure(login())).message).toMatch(/unexpected "state"/);
    op.behaviour.stateParam = 'echo';
    op.behaviour.authorizeError = { error: 'access_denied', error_description: '<script>alert(1)</script>' };
    const f = await failure(login());
    expect(f.name).toBe('AuthorizationResponseError');
    expect(f.error).toBe('access_denied');
    // none of these reached the token endpoint
    expect(op.counters).toMatchObject({ authorization: 4, token: 0 });
  });

  it('sign() + rotateKeys(): JWKS serves only the new RS key; other-rs never verifies', async () => {
    const jwksUrl = new URL(`${op.issuer}/jwks`);
    const before = await op.sign({ sub: 'x' });
    const other = await op.sign({ sub: 'x' }, { key: 'other-rs' });
    await jwtVerify(before, createRemoteJWKSet(jwksUrl));
    await expect(jwtVerify(other, createRemoteJWKSet(jwksUrl))).rejects.toThrow(/signature verification failed/);
    await op.rotateKeys();
    const after = await op.sign({ sub: 'x' }, { typ: 'logout+jwt' });
    const jwks = (await (await fetch(jwksUrl)).json()) as { keys: Array<{ kid: string; kty: string }> };
    expect(jwks.keys.filter((k) => k.kty === 'RSA').map((k) => k.kid)).toEqual([op.currentKid()]);
    await jwtVerify(after, createRemoteJWKSet(jwksUrl), { typ: 'logout+jwt' });
    await expect(jwtVerify(before, createRemoteJWKSet(jwksUrl))).rejects.toThrow(/no applicable key found/);
  });

  it('close() ends a hanging token request instead of letting the test time out', async () => {
    const hanging = await startHostileOp({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    hanging.behaviour.tokenDelayMs = 60_000;
    const config = await client.discovery(new URL(hanging.issuer), CLIENT_ID, CLIENT_SECRET, undefined, {
      execute: [client.allowInsecureRequests],
    });
    const url = client.buildAuthorizationUrl(config, { redirect_uri: REDIRECT_URI, scope: 'openid', state: 's', code_challenge: await client.calculatePKCECodeChallenge('v'.repeat(43)), code_challenge_method: 'S256' });
    const callback = new URL(await hanging.authorize(url));
    const grant = client.authorizationCodeGrant(config, callback, { expectedState: 's', pkceCodeVerifier: 'v'.repeat(43) });
    const settled = failure(grant);
    while (hanging.counters.token === 0) await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await hanging.close();
    await settled;
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
