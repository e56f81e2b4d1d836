/**
 * Issue 12, defect 6: the DPoP `htu` was compared with a URL built from the client's Host header, so a
 * proof made for another resource server passed when the client sent that server's Host. It is now
 * compared with the configured public URL (`baseUrl` of requireBearer(), oidc()'s for
 * requireAuth({ bearer })); Host / X-Forwarded-Host are not read, with or without `trust proxy`. Proof
 * keys that cost more than a normal key to verify (RSA e != 65537, modulus over 4096 bits) are refused
 * before verifying. Run behind a TLS-terminating node:http proxy, with `trust proxy` on and the routes in
 * a router mounted on /v1, on every adapter.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseChallenge } from '../helpers/api-app.js';
import { variantApp } from '../helpers/app-variants.js';
import { startForwardingProxy } from '../helpers/forwarding-proxy.js';
import type { ForwardingProxy } from '../helpers/forwarding-proxy.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS } from '../helpers/rp-app.js';

const PUBLIC = 'https://api.example.test';
const OTHER = 'https://other-api.example.test';
const AUDIENCE = 'https://things.example.test';

interface Holder {
  privateKey: CryptoKey;
  jwk: JWK;
  alg: 'ES256' | 'RS256';
}

let op: HostileOp;
let holder: Holder;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
  const pair = await generateKeyPair('ES256', { extractable: true });
  holder = { privateKey: pair.privateKey, jwk: await exportJWK(pair.publicKey), alg: 'ES256' };
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** An RFC 9068 access token bound to the holder's key (cnf.jkt). */
async function boundToken(key: Holder = holder): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const jkt = await calculateJwkThumbprint(key.jwk, 'sha256');
  return op.sign({ iss: op.issuer, aud: AUDIENCE, sub: 'user-1', client_id: 'spa', scope: 'read', iat, exp: iat + 300, jti: randomUUID(), cnf: { jkt } }, { typ: 'at+jwt' });
}

function proof(token: string, htu: string, key: Holder = holder): Promise<string> {
  const ath = createHash('sha256').update(token).digest('base64url');
  return new SignJWT({ htm: 'GET', htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID(), ath })
    .setProtectedHeader({ alg: key.alg, typ: 'dpop+jwt', jwk: key.jwk })
    .sign(key.privateKey);
}

describe.each(ADAPTERS)('issue 12 defect 6: DPoP htu against the configured public URL, behind a trust-proxy TLS proxy (%s)', (adapter) => {
  let proxy: ForwardingProxy;
  beforeEach(async () => {
    proxy = await startForwardingProxy(variantApp({
      adapter,
      errors: 'json',
      trustProxy: true,
      mountPath: '/v1',
      oidc: { issuer: op.issuer, baseUrl: PUBLIC },
      routes: [
        { method: 'get', path: '/things', guards: (k) => [k.requireBearer({ issuer: op.issuer, audience: AUDIENCE, dpop: {}, baseUrl: PUBLIC })] },
        { method: 'get', path: '/either', guards: (k) => [k.requireAuth({ bearer: { audience: AUDIENCE, dpop: {} } })] },
      ],
    }));
  });
  afterEach(() => proxy.close());

  async function call(path: string, host: string, token: string, dpop: string): Promise<request.Response> {
    return request(proxy.url).get(path).set('Host', host).set('Authorization', `DPoP ${token}`).set('DPoP', dpop);
  }

  it.each(['/things', '/either'])('a proof for the public URL passes through the proxy (%s)', async (route) => {
    const token = await boundToken();
    const res = await call(`/v1${route}?page=2`, 'api.example.test', token, await proof(token, `${PUBLIC}/v1${route}`));
    expect([res.status, res.body]).toEqual([200, { via: 'bearer', sub: 'user-1', scheme: 'DPoP' }]);
  });

  it.each(['/things', '/either'])('a proof made for another resource server, sent with that server\'s Host (forwarded as X-Forwarded-Host): 401 (%s)', async (route) => {
    const token = await boundToken();
    const res = await call(`/v1${route}`, 'other-api.example.test', token, await proof(token, `${OTHER}/v1${route}`));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_DPOP_PROOF');
    expect(parseChallenge(res.headers['www-authenticate']).params.error_description).toBe('The DPoP proof was made for another URL');
  });

  it('a proof for the public host but another path (the router\'s mount point left out): 401', async () => {
    const token = await boundToken();
    const res = await call('/v1/things', 'api.example.test', token, await proof(token, `${PUBLIC}/things`));
    expect(res.status).toBe(401);
  });

  it('an RSA proof key with exponent 3, and one with a 4160-bit modulus: refused before verifying', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 });
    const jwk = privateKey.export({ format: 'jwk' }) as JWK;
    const weak: Holder = { privateKey: (await importJWK({ ...jwk, alg: 'RS256' }, 'RS256')) as CryptoKey, jwk: { kty: 'RSA', n: jwk.n, e: jwk.e } as JWK, alg: 'RS256' };
    expect(weak.jwk.e).toBe('Aw');
    const token = await boundToken(weak);
    const expensive = await call('/v1/things', 'api.example.test', token, await proof(token, `${PUBLIC}/v1/things`, weak));
    expect(expensive.status).toBe(401);
    expect(parseChallenge(expensive.headers['www-authenticate']).params.error_description).toMatch(/RSA key with an exponent other than 65537 or over 4096 bits/);
    // A header naming a huge key: the signature is never looked at.
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const big = { kty: 'RSA', e: 'AQAB', n: randomBytes(520).toString('base64url') };
    const forged = `${b64({ alg: 'RS256', typ: 'dpop+jwt', jwk: big })}.${b64({ htm: 'GET', htu: `${PUBLIC}/v1/things`, iat: Math.floor(Date.now() / 1000), jti: randomUUID() })}.${randomBytes(520).toString('base64url')}`;
    const huge = await call('/v1/things', 'api.example.test', token, forged);
    expect(huge.status).toBe(401);
    expect(parseChallenge(huge.headers['www-authenticate']).params.error_description).toMatch(/over 4096 bits/);
  });
});
