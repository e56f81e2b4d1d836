import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, createLocalJWKSet, exportJWK } from 'jose';
import { describe, expect, it } from 'vitest';
import type { DiscoveredProvider } from '../../lib/core/idp/provider-client.js';
import { verifyIdTokenSignature } from '../../lib/core/tokens/id-token.js';

const ISSUER = 'https://op.example';
const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const keys = createLocalJWKSet({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' }] });
const provider = { issuer: ISSUER, settings: { idTokenSigningAlg: 'RS256', clientId: 'rp' }, jwks: keys } as unknown as DiscoveredProvider;
const NOW_MS = 1_800_000_000_000;
const now = NOW_MS / 1000;

const token = (claims: Record<string, unknown>) =>
  new SignJWT({ iss: ISSUER, aud: 'rp', sub: 'u1', iat: now, exp: now + 600, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
const outcome = async (claims: Record<string, unknown>) =>
  verifyIdTokenSignature(provider, await token(claims), NOW_MS, 60).then(() => 'accepted', (err: { code?: string; message?: string }) => `${err.code}: ${err.message}`);

describe('verifyIdTokenSignature checks the registered claims itself (not only through openid-client)', () => {
  it.each([
    ['another issuer', { iss: 'https://evil.example' }, '(ERR_JWT_CLAIM_VALIDATION_FAILED)'],
    ['another audience', { aud: 'other' }, '(ERR_JWT_CLAIM_VALIDATION_FAILED)'],
    ['an audience list without us', { aud: ['a', 'b'] }, '(ERR_JWT_CLAIM_VALIDATION_FAILED)'],
    ['no exp', { exp: undefined }, '(ERR_JWT_CLAIM_VALIDATION_FAILED)'],
    ['exp past the tolerance', { exp: now - 61 }, '(ERR_JWT_EXPIRED)'],
    ['nbf beyond the tolerance', { nbf: now + 61 }, '(ERR_JWT_CLAIM_VALIDATION_FAILED)'],
    ['azp of another client', { azp: 'other' }, '"azp"'],
    ['iat in the future', { iat: now + 120 }, '"iat"'],
  ])('refuses %s', async (_what, claims, reason) => {
    const result = await outcome(claims);
    expect(result).toMatch(/^ERR_OIDC_INVALID_ID_TOKEN: /);
    expect(result).toContain(reason);
  });

  it.each([
    ['a correct token', {}],
    ['an audience list with us', { aud: ['other', 'rp'] }],
    ['exp within the tolerance', { exp: now - 30 }],
    ['nbf within the tolerance', { nbf: now + 30 }],
  ])('accepts %s', async (_what, claims) => {
    expect(await outcome(claims)).toBe('accepted');
  });
});
