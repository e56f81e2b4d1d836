import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireBearer } from '../../lib/express/index.js';
import type { BearerOptions } from '../../lib/express/index.js';
import { createApiApp, describeCaller, parseChallenge } from '../helpers/api-app.js';
import { API, API_CLIENT, OPAQUE_API, startApiIdp } from '../helpers/api-idp.js';
import type { ApiIdp } from '../helpers/api-idp.js';
import { startRpServer } from '../helpers/live-rp.js';
import type { RpServer } from '../helpers/live-rp.js';

interface Holder {
  privateKey: CryptoKey;
  publicJwk: JWK;
  handle: client.DPoPHandle;
}

let api: ApiIdp;
let server: RpServer;
let holder: Holder;
let dpopToken: string;
let dpopOpaqueToken: string;
let bearerToken: string;

async function newHolder(): Promise<Holder> {
  const pair = await generateKeyPair('ES256', { extractable: true });
  return { privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey), handle: client.getDPoPHandle(api.config, pair) };
}

interface ProofOverrides {
  htm?: string;
  htu?: string;
  iat?: number;
  ath?: string | null;
  jti?: string;
  typ?: string;
  key?: Holder;
  jwk?: JWK;
}

/** A DPoP proof made by hand, so each test can get one thing wrong. */
function proof(token: string, url: string, o: ProofOverrides = {}): Promise<string> {
  const key = o.key ?? holder;
  const payload: Record<string, unknown> = {
    htm: o.htm ?? 'GET',
    htu: o.htu ?? url,
    iat: o.iat ?? Math.floor(Date.now() / 1000),
    jti: o.jti ?? randomUUID(),
  };
  if (o.ath !== null) payload.ath = o.ath ?? createHash('sha256').update(token).digest('base64url');
  return new SignJWT(payload).setProtectedHeader({ alg: 'ES256', typ: o.typ ?? 'dpop+jwt', jwk: o.jwk ?? key.publicJwk }).sign(key.privateKey);
}

function serve(options: Partial<BearerOptions>): void {
  server.serve(createApiApp((app) => {
    app.use('/api', requireBearer({ issuer: api.idp.issuer, audience: [API, OPAQUE_API], introspection: API_CLIENT, dpop: {}, baseUrl: server.baseUrl, ...options }));
    app.get('/api/things', (req, res) => res.json(describeCaller(req)));
    app.post('/api/things', (req, res) => res.json(describeCaller(req)));
  }));
}

async function call(path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: Record<string, unknown>; challenge: string | null }> {
  const res = await fetch(server.baseUrl + path, { method, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, challenge: res.headers.get('www-authenticate') };
}

beforeAll(async () => {
  api = await startApiIdp();
  server = await startRpServer();
  holder = await newHolder();
  dpopToken = (await api.tokens('alice', { resource: API, scope: 'openid read:things' }, holder.handle)).access_token;
  dpopOpaqueToken = (await api.tokens('alice', { resource: OPAQUE_API, scope: 'openid read:things' }, holder.handle)).access_token;
  bearerToken = (await api.tokens('bob', { resource: API, scope: 'openid read:things' })).access_token;
});
afterAll(async () => {
  await server?.close();
  await api?.close();
});

describe('DPoP (RFC 9449) with tokens bound by oidc-provider', () => {
  it('accepts a DPoP-bound JWT presented by openid-client (proof with htm, htu, iat, jti, ath)', async () => {
    serve({});
    const url = new URL(`${server.baseUrl}/api/things?page=2`);
    const res = await client.fetchProtectedResource(api.config, dpopToken, url, 'GET', undefined, undefined, { DPoP: holder.handle });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ via: 'bearer', sub: 'alice', scheme: 'DPoP', scopes: ['read:things'] });
  });

  it('accepts a DPoP-bound opaque token: the binding (cnf.jkt) comes from introspection', async () => {
    serve({});
    const url = new URL(`${server.baseUrl}/api/things`);
    const res = await client.fetchProtectedResource(api.config, dpopOpaqueToken, url, 'POST', undefined, undefined, { DPoP: holder.handle });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ sub: 'alice', scheme: 'DPoP', aud: OPAQUE_API });
  });

  it('refuses the DPoP-bound token presented as a plain Bearer token (a stolen token is useless)', async () => {
    serve({});
    const res = await call('/api/things', { Authorization: `Bearer ${dpopToken}` });
    expect(res.status).toBe(401);
    expect(parseChallenge(res.challenge ?? undefined).params).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(/DPoP-bound/) });
  });

  it('refuses the DPoP scheme without a proof, or with two proofs', async () => {
    serve({});
    const url = `${server.baseUrl}/api/things`;
    const none = await call('/api/things', { Authorization: `DPoP ${dpopToken}` });
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('ERR_OIDC_INVALID_DPOP_PROOF');
    const challenge = parseChallenge(none.challenge ?? undefined);
    expect(challenge).toMatchObject({ scheme: 'DPoP', params: { error: 'invalid_dpop_proof' } });
    expect(challenge.params.algs).toContain('ES256');
    const two = await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: `${await proof(dpopToken, url)}, ${await proof(dpopToken, url)}` });
    expect(two.status).toBe(401);
    expect(two.body.error).toBe('ERR_OIDC_INVALID_DPOP_PROOF');
  });

  it.each<[string, (url: string) => ProofOverrides | Promise<ProofOverrides>, RegExp]>([
    ['another method (htm)', () => ({ htm: 'POST' }), /another HTTP method/],
    ['another URL (htu)', () => ({ htu: 'https://api.example.test/api/things' }), /another URL/],
    ['another path (htu)', (url) => ({ htu: url.replace('/things', '/other') }), /another URL/],
    ['an old iat', () => ({ iat: Math.floor(Date.now() / 1000) - 600 }), /too old/],
    ['an iat in the future', () => ({ iat: Math.floor(Date.now() / 1000) + 600 }), /too old or from the future/],
    ['no ath', () => ({ ath: null }), /ath/],
    ['the ath of another token', () => ({ ath: createHash('sha256').update('another').digest('base64url') }), /ath/],
    ['typ JWT', () => ({ typ: 'JWT' }), /typ/],
    ['a key other than the token is bound to', async () => ({ key: await newHolder() }), /does not match/],
    ['a private key in the header', async () => ({ jwk: { ...(await exportJWK(holder.privateKey)) } }), /malformed|signature/],
  ])('refuses a proof with %s', async (_name, overrides, description) => {
    serve({});
    const url = `${server.baseUrl}/api/things`;
    const res = await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: await proof(dpopToken, url, await overrides(url)) });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_DPOP_PROOF');
    expect(parseChallenge(res.challenge ?? undefined).params.error_description).toMatch(description);
  });

  it('ignores the query string when comparing htu (RFC 9449 §4.3)', async () => {
    serve({});
    const url = `${server.baseUrl}/api/things`;
    const res = await call('/api/things?x=1', { Authorization: `DPoP ${dpopToken}`, DPoP: await proof(dpopToken, `${url}?y=2`) });
    expect(res.status).toBe(200);
  });

  it('refuses a replayed proof (same jti), here and for another method or URL', async () => {
    serve({});
    const url = `${server.baseUrl}/api/things`;
    const once = await proof(dpopToken, url);
    expect((await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: once })).status).toBe(200);
    const again = await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: once });
    expect(again.status).toBe(401);
    expect(parseChallenge(again.challenge ?? undefined).params.error_description).toMatch(/already used/);
    const elsewhere = await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: once }, 'POST');
    expect(parseChallenge(elsewhere.challenge ?? undefined).params.error_description).toMatch(/another HTTP method/);
  });

  it('refuses a DPoP proof with a token that is not DPoP-bound', async () => {
    serve({});
    const url = `${server.baseUrl}/api/things`;
    const res = await call('/api/things', { Authorization: `DPoP ${bearerToken}`, DPoP: await proof(bearerToken, url) });
    expect(res.status).toBe(401);
    expect(parseChallenge(res.challenge ?? undefined)).toMatchObject({ scheme: 'DPoP', params: { error: 'invalid_token' } });
  });

  it('still accepts plain Bearer tokens unless DPoP is required, and offers both schemes when there is no token', async () => {
    serve({});
    expect((await call('/api/things', { Authorization: `Bearer ${bearerToken}` })).status).toBe(200);
    const none = await call('/api/things', {});
    expect(none.status).toBe(401);
    expect(none.challenge).toMatch(/^Bearer, DPoP algs="[^"]*ES256[^"]*"$/);
  });

  it('dpop.required: refuses Bearer tokens with a DPoP challenge, and challenges anonymous requests with DPoP only', async () => {
    serve({ dpop: { required: true, algorithms: ['ES256'] }, realm: 'things' });
    const bearer = await call('/api/things', { Authorization: `Bearer ${bearerToken}` });
    expect(bearer.status).toBe(401);
    expect(parseChallenge(bearer.challenge ?? undefined)).toMatchObject({ scheme: 'DPoP', params: { realm: 'things', error: 'invalid_token', algs: 'ES256' } });
    const none = await call('/api/things', {});
    expect(none.challenge).toBe('DPoP realm="things", algs="ES256"');
    const url = `${server.baseUrl}/api/things`;
    expect((await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: await proof(dpopToken, url) })).status).toBe(200);
  });

  it('dpop.algorithms: refuses a proof signed with another algorithm', async () => {
    serve({ dpop: { algorithms: ['EdDSA'] } });
    const url = `${server.baseUrl}/api/things`;
    const res = await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: await proof(dpopToken, url) });
    expect(parseChallenge(res.challenge ?? undefined).params.error_description).toMatch(/algorithm/);
  });

  it('without the dpop option: the DPoP scheme is refused, and so is a DPoP-bound token as Bearer', async () => {
    serve({ dpop: undefined });
    const url = `${server.baseUrl}/api/things`;
    const dpop = await call('/api/things', { Authorization: `DPoP ${dpopToken}`, DPoP: await proof(dpopToken, url) });
    expect(dpop.status).toBe(401);
    expect(parseChallenge(dpop.challenge ?? undefined)).toMatchObject({ scheme: 'Bearer', params: { error: 'invalid_token' } });
    expect((await call('/api/things', { Authorization: `Bearer ${dpopToken}` })).status).toBe(401);
    const none = await call('/api/things', {});
    expect(none.challenge).toBe('Bearer');
  });
});
