import { decodeJwt, decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import * as client from 'openid-client';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lib/core/config/resolve-config.js';
import type { OidcOptions } from '../../lib/core/config/options.js';
import { createTestIdp } from '../../lib/testing/index.js';
import type { TestIdp, TestIdpOptions } from '../../lib/testing/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { startRpServer } from '../helpers/live-rp.js';
import type { RpServer } from '../helpers/live-rp.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpApp, RpOptions } from '../helpers/rp-app.js';

// Signed request objects (JAR, RFC 9101) at /login, against oidc-provider, with and without PAR.
let privateJwk: JWK;
let otherPrivateJwk: JWK;
let publicJwk: JWK;
beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'rp-jar-1', alg: 'ES256' };
  publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'rp-jar-1', alg: 'ES256', use: 'sig' };
  otherPrivateJwk = { ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)), kid: 'rp-jar-1', alg: 'ES256' };
});

interface Live {
  rp: RpApp;
  idp: TestIdp;
  baseUrl: string;
}
let server: RpServer | undefined;
let idp: TestIdp | undefined;
afterEach(async () => {
  await server?.close();
  await idp?.close();
  server = undefined;
  idp = undefined;
});

async function start(adapter: Adapter, options: RpOptions, idpOptions: Partial<TestIdpOptions> = { requestObjects: { requireSigned: true } }): Promise<Live> {
  server = await startRpServer();
  const baseUrl = server.baseUrl;
  idp = await createTestIdp({
    clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [`${baseUrl}/callback`], jwks: { keys: [publicJwk] }, request_object_signing_alg: 'ES256' }],
    ...idpOptions,
  });
  const rp = createRp(adapter, { issuer: idp.issuer, baseUrl, ...options });
  server.serve(rp.app);
  return { rp, idp, baseUrl };
}

async function login(live: Live) {
  const agent = request.agent(live.baseUrl);
  const begin = await agent.get('/login?returnTo=/profile').set('Accept', 'text/html').expect(302);
  const url = new URL(begin.headers.location as string);
  const back = await live.idp.login(url, { username: 'alice', password: 'alice' });
  const done = await agent.get(localPath(back.url)).expect(302);
  return { agent, url, done };
}

describe.each(ADAPTERS)('requestObject against oidc-provider (%s)', (adapter) => {
  it('sends only client_id and a signed request object; the IdP (which requires one) completes the login', async () => {
    const live = await start(adapter, { requestObject: { key: privateJwk } });
    const { agent, url, done } = await login(live);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request']);
    const jwt = url.searchParams.get('request') as string;
    expect(decodeProtectedHeader(jwt)).toMatchObject({ alg: 'ES256', kid: 'rp-jar-1', typ: 'oauth-authz-req+jwt' });
    const claims = decodeJwt(jwt);
    expect(claims).toMatchObject({
      iss: 'rp', aud: live.idp.issuer, client_id: 'rp', response_type: 'code', redirect_uri: `${live.baseUrl}/callback`,
      code_challenge_method: 'S256', state: expect.any(String), nonce: expect.any(String), scope: 'openid profile email',
    });
    expect(done.headers.location).toBe('/profile');
    await agent.get('/api/me').expect(200);
  });

  it('with pushedAuthorizationRequests: the request object goes to the PAR endpoint, the browser sees request_uri', async () => {
    const live = await start(adapter, { requestObject: { key: privateJwk }, pushedAuthorizationRequests: true });
    const { agent, url } = await login(live);
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri']);
    await agent.get('/api/me').expect(200);
  });

  it('a request object signed with a key the IdP does not know: the IdP refuses it (invalid_request_object), no login', async () => {
    const live = await start(adapter, { requestObject: { key: otherPrivateJwk } });
    const agent = request.agent(live.baseUrl);
    const begin = await agent.get('/login').expect(302);
    const back = await live.idp.login(begin.headers.location as string, { username: 'alice', password: 'alice' });
    expect(new URL(back.url).searchParams.get('error')).toBe('invalid_request_object');
    const res = await agent.get(localPath(back.url)).expect(401);
    expect(res.body.error).toBe('ERR_OIDC_ACCESS_DENIED');
    await agent.get('/api/me').expect(401);
  });

  it('an IdP that requires signed request objects refuses a login without one (the option is what makes it work)', async () => {
    const live = await start(adapter, {});
    const agent = request.agent(live.baseUrl);
    const begin = await agent.get('/login').expect(302);
    const back = await live.idp.login(begin.headers.location as string, { username: 'alice', password: 'alice' });
    expect(new URL(back.url).searchParams.get('error_description')).toBe('Request Object must be used by this client');
    await agent.get(localPath(back.url)).expect(401);
  });

  it('an IdP without request object support: /login answers ERR_OIDC_INVALID_CONFIG naming the option, nothing is sent', async () => {
    const live = await start(adapter, { requestObject: { key: privateJwk } }, {});
    live.idp.resetCounters();
    const res = await request(live.baseUrl).get('/login').expect(500);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CONFIG');
    expect(live.rp.errors.at(-1)?.message).toContain('"requestObject"');
    expect(live.idp.counters.authorization).toBe(0);
  });
});

describe('requestObject and the IdP metadata (hostile OP)', () => {
  let op: HostileOp;
  beforeAll(async () => {
    op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
  });
  afterAll(() => op.close());

  it('refuses an algorithm the IdP does not list, at discovery, and keeps refusing (nothing cached)', async () => {
    op.reset();
    op.behaviour.discoveryOverrides = { request_parameter_supported: true, request_object_signing_alg_values_supported: ['RS256', 'PS256'] };
    const rp = createRp('express5', { issuer: op.issuer, requestObject: { key: privateJwk } });
    for (let i = 0; i < 2; i++) {
      const res = await request(rp.app).get('/login').expect(500);
      expect(res.body.error).toBe('ERR_OIDC_INVALID_CONFIG');
    }
    expect(rp.errors.at(-1)?.message).toContain('"requestObject.alg" ES256 is not in the IdP\'s request_object_signing_alg_values_supported (RS256, PS256)');
    expect(op.counters.discovery).toBe(2);
    expect(op.counters.authorization).toBe(0);
  });
});

describe('the requestObject option', () => {
  const base: OidcOptions = { issuer: 'https://idp.example.com', clientId: 'app', clientSecret: 's', baseUrl: 'https://app.example.com' };
  const message = (options: Partial<OidcOptions> | Record<string, unknown>): string => {
    try {
      resolveConfig({ ...base, ...options } as OidcOptions);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('ERR_OIDC_INVALID_CONFIG');
      return (err as Error).message;
    }
    throw new Error('expected a config error');
  };

  it('is refused at construction when a Configuration shows the IdP lacks the algorithm', () => {
    const config = new client.Configuration(
      { issuer: 'https://idp.example.com', authorization_endpoint: 'https://idp.example.com/auth', token_endpoint: 'https://idp.example.com/token', jwks_uri: 'https://idp.example.com/jwks', request_parameter_supported: true, request_object_signing_alg_values_supported: ['RS256'] },
      'app',
      's',
    );
    const { issuer: _issuer, ...withoutIssuer } = base;
    expect(() => resolveConfig({ ...withoutIssuer, config, requestObject: { key: privateJwk } })).toThrow(/"requestObject.alg" ES256 is not in/);
    expect(resolveConfig({ ...withoutIssuer, config, requestObject: { key: privateJwk, alg: 'RS256' } }).providers[0]?.requestObject?.alg).toBe('RS256');
  });

  it('accepts a JWK (alg from the JWK), a PEM and a CryptoKey', async () => {
    expect(resolveConfig({ ...base, requestObject: { key: privateJwk } }).providers[0]?.requestObject).toMatchObject({ alg: 'ES256', kid: 'rp-jar-1' });
    const rsa = await generateKeyPair('PS256', { extractable: true });
    expect(resolveConfig({ ...base, requestObject: { key: await exportPKCS8(rsa.privateKey), alg: 'PS256' } }).providers[0]?.requestObject?.alg).toBe('PS256');
    expect(resolveConfig({ ...base, requestObject: { key: rsa.privateKey } }).providers[0]?.requestObject?.alg).toBe('PS256');
  });

  it.each([
    [{ requestObject: 'key' }, '"requestObject" must be an object'],
    [{ requestObject: { key: { kty: 'EC', x: 'x', y: 'y' } } }, '"requestObject.key" must be a private'],
    [{ requestObject: { key: 'not a pem' } }, '"requestObject.key" must be a PKCS#8 PEM'],
    [{ requestObject: { key: { kty: 'EC', d: 'd' }, alg: 'HS256' } }, '"requestObject.alg" must be an asymmetric'],
    [{ requestObject: { key: { kty: 'EC', d: 'd' }, kid: 'x' } }, 'unknown option "requestObject.kid"'],
  ])('refuses %j', (options, expected) => {
    expect(message(options)).toContain(expected);
  });
});
