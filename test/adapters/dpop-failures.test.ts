import { decodeJwt, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lib/core/config/resolve-config.js';
import type { OidcOptions } from '../../lib/core/config/options.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter } from '../helpers/rp-app.js';

// dpop: true against an IdP that gets DPoP wrong: a nonce loop, and what the token request carries.
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function callback(adapter: Adapter) {
  const rp = createRp(adapter, { issuer: op.issuer, dpop: true });
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  const res = await agent.get(localPath(await op.authorize(start.headers.location as string)));
  return { rp, agent, res };
}

describe.each(ADAPTERS)('dpop with a hostile IdP (%s)', (adapter) => {
  it('an IdP that answers use_dpop_nonce every time: one retry only, then 502 and no login', async () => {
    op.behaviour.tokenStatus = 400;
    op.behaviour.tokenBody = JSON.stringify({ error: 'use_dpop_nonce', error_description: 'nonce required' });
    op.behaviour.tokenHeaders = { 'DPoP-Nonce': 'always-a-new-one' };
    const { rp, agent, res } = await callback(adapter);
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_TOKEN_REQUEST_FAILED');
    const tokenRequests = op.requests.filter((r) => r.endpoint === 'token');
    expect(tokenRequests).toHaveLength(2);
    const nonces = tokenRequests.map((r) => decodeJwt(String(r.headers.dpop)).nonce);
    expect(nonces).toEqual([undefined, 'always-a-new-one']);
    expect(JSON.stringify(await rp.sessions())).not.toMatch(/accessToken|dpopKey/);
    await agent.get('/api/me').expect(401);
  });

  it('an IdP without DPoP support that answers Bearer: logged in with a Bearer token and no stored key', async () => {
    const { rp, res } = await callback(adapter);
    expect(res.status).toBe(302);
    const proof = decodeJwt(String(op.requests.find((r) => r.endpoint === 'token')?.headers.dpop));
    expect(proof).toMatchObject({ htm: 'POST', htu: `${op.issuer}/token`, jti: expect.any(String), iat: expect.any(Number) });
    const auth = (Object.values(await rp.sessions())[0] as { oidc: { auth: Record<string, unknown> } }).oidc.auth;
    expect(auth.dpopKey).toBeUndefined();
    expect(auth.tokenType).toBeUndefined();
  });
});

describe('the dpop option', () => {
  const base: OidcOptions = { issuer: 'https://idp.example.com', clientId: 'app', clientSecret: 's', baseUrl: 'https://app.example.com' };
  const error = (dpop: unknown) => {
    try {
      resolveConfig({ ...base, dpop } as OidcOptions);
    } catch (err) {
      return (err as { code: string; message: string });
    }
    throw new Error('expected a config error');
  };

  it('accepts true, false, a key pair and a private JWK', async () => {
    expect(resolveConfig({ ...base, dpop: true }).dpop).toEqual({ mode: 'session' });
    expect(resolveConfig({ ...base, dpop: false }).dpop).toBeUndefined();
    expect(resolveConfig(base).dpop).toBeUndefined();
    const pair = await generateKeyPair('ES256', { extractable: true });
    expect(resolveConfig({ ...base, dpop: pair }).dpop?.mode).toBe('app');
    expect(resolveConfig({ ...base, dpop: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' } }).dpop?.mode).toBe('app');
  });

  it.each([['yes'], [{ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }], [{ kty: 'oct', k: 'secret', d: 'x' }], [1]])('refuses %j, naming the option', (value) => {
    const err = error(value);
    expect(err.code).toBe('ERR_OIDC_INVALID_CONFIG');
    expect(err.message).toContain('"dpop"');
  });

  it('refuses a "key pair" whose private key is a public key', async () => {
    const pair = await generateKeyPair('ES256');
    expect(error({ privateKey: pair.publicKey, publicKey: pair.publicKey }).message).toContain('needs a private key');
  });
});
