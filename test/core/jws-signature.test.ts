import { generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, createLocalJWKSet, exportJWK, jwtVerify } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { describe, expect, it } from 'vitest';
import { ASYMMETRIC_ALGS } from '../../lib/core/config/validators.js';
import { verifyCompactJws } from '../../lib/core/tokens/jws-signature.js';

const PAYLOAD = { iss: 'https://op.example', aud: 'rp', sub: 'u1', nonce: 'n1' };

const rsa = (modulusLength: number) => () => generateKeyPairSync('rsa', { modulusLength });
const KEYS: Record<string, () => { publicKey: KeyObject; privateKey: KeyObject }> = {
  RS256: rsa(2048),
  RS384: rsa(2048),
  RS512: rsa(2048),
  PS256: rsa(2048),
  PS384: rsa(3072),
  PS512: rsa(2048),
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: () => generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ES512: () => generateKeyPairSync('ec', { namedCurve: 'P-521' }),
  EdDSA: () => generateKeyPairSync('ed25519'),
  Ed25519: () => generateKeyPairSync('ed25519'),
};

async function signed(alg: string) {
  const make = KEYS[alg];
  if (!make) throw new Error(`no test key for ${alg}`);
  const pair = make();
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg };
  const token = await new SignJWT(PAYLOAD).setProtectedHeader({ alg, kid: 'k1' }).sign(pair.privateKey);
  return { token, keys: createLocalJWKSet({ keys: [jwk] }), pair };
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const code = (promise: Promise<unknown>) => promise.then(() => 'accepted', (err: { code?: string }) => err.code ?? 'no code');

describe('verifyCompactJws (ID token signatures through node:crypto)', () => {
  // Every algorithm the options accept (idTokenSigningAlg), so one added there cannot be left out here.
  it.each(ASYMMETRIC_ALGS)('accepts a %s token signed with the published key, as jose does', async (alg) => {
    const { token, keys } = await signed(alg);
    const { header, payload } = await verifyCompactJws(token, alg, keys);
    expect(header).toMatchObject({ alg, kid: 'k1' });
    expect(payload).toEqual(PAYLOAD);
    expect((await jwtVerify(token, keys, { algorithms: [alg] })).payload).toEqual(payload);
  });

  it('refuses a token whose payload, header or signature was changed, like jose', async () => {
    const { token, keys } = await signed('RS256');
    const [h, p, s] = token.split('.') as [string, string, string];
    const flipped = (text: string) => text.slice(0, 10) + (text[10] === 'A' ? 'B' : 'A') + text.slice(11);
    const variants = [
      `${h}.${b64({ ...PAYLOAD, sub: 'admin' })}.${s}`,
      `${b64({ alg: 'RS256', kid: 'k1', x: 1 })}.${p}.${s}`,
      `${h}.${p}.${flipped(s)}`,
      `${h}.${p}.`,
    ];
    for (const variant of variants) {
      const ours = await code(verifyCompactJws(variant, 'RS256', keys));
      expect(ours).not.toBe('accepted');
      expect(await code(jwtVerify(variant, keys, { algorithms: ['RS256'] }))).not.toBe('accepted');
    }
    expect(await code(verifyCompactJws(`${h}.${b64({ ...PAYLOAD, sub: 'admin' })}.${s}`, 'RS256', keys))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses a valid signature of another key that carries the same kid', async () => {
    const { token } = await signed('ES256');
    const other = await signed('ES256');
    expect(await code(verifyCompactJws(token, 'ES256', other.keys))).toBe('ERR_JWS_SIGNATURE_VERIFICATION_FAILED');
  });

  it('refuses any algorithm but the pinned one: another asymmetric one, none, HS256 keyed with the public key', async () => {
    const { token, keys, pair } = await signed('RS256');
    expect(await code(verifyCompactJws(token, 'PS256', keys))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    const [, p] = token.split('.') as [string, string];
    expect(await code(verifyCompactJws(`${b64({ alg: 'none' })}.${p}.`, 'RS256', keys))).not.toBe('accepted');
    const publicPem = pair.publicKey.export({ type: 'spki', format: 'pem' });
    const hs = await new SignJWT(PAYLOAD).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(String(publicPem)));
    expect(await code(verifyCompactJws(hs, 'RS256', keys))).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
    expect(await code(verifyCompactJws(token, 'HS256', keys))).toBe('ERR_JOSE_NOT_SUPPORTED');
  });

  it('refuses critical header parameters (b64=false included), though correctly signed', async () => {
    const { token, keys, pair } = await signed('RS256');
    const payload = token.split('.')[1] as string;
    for (const header of [{ alg: 'RS256', kid: 'k1', crit: ['x'], x: 1 }, { alg: 'RS256', kid: 'k1', crit: ['b64'], b64: false }]) {
      const input = `${b64(header)}.${payload}`;
      const critical = `${input}.${sign('sha256', Buffer.from(input), pair.privateKey).toString('base64url')}`;
      expect(await code(verifyCompactJws(critical, 'RS256', keys))).toBe('ERR_JOSE_NOT_SUPPORTED');
    }
    // the same construction without crit passes, so the refusal above is the crit
    const plain = `${b64({ alg: 'RS256', kid: 'k1' })}.${payload}`;
    expect(await code(verifyCompactJws(`${plain}.${sign('sha256', Buffer.from(plain), pair.privateKey).toString('base64url')}`, 'RS256', keys))).toBe('accepted');
  });

  it('refuses malformed compact serialisations', async () => {
    const { token, keys } = await signed('RS256');
    const [h, p, s] = token.split('.') as [string, string, string];
    for (const bad of [`${h}.${p}`, `${token}.x`, `${h}.${p}.${s}=`, `${h}.${p}+.${s}`, `${b64([1])}.${p}.${s}`, `${h}.${Buffer.from('not json').toString('base64url')}.${s}`]) {
      expect(await code(verifyCompactJws(bad, 'RS256', keys))).toMatch(/^ERR_JWS_(INVALID|SIGNATURE_VERIFICATION_FAILED)$/);
    }
  });

  it('refuses a segment with a lone trailing character, which Buffer would silently drop', async () => {
    const { token, keys } = await signed('ES384');
    const signature = token.split('.')[2] as string;
    expect(signature.length % 4).toBe(0);
    expect(Buffer.from(`${signature}Q`, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    expect(await code(verifyCompactJws(`${token}Q`, 'ES384', keys))).toBe('ERR_JWS_INVALID');
    expect(await code(verifyCompactJws(token, 'ES384', keys))).toBe('accepted');
  });

  it("refuses a key that does not fit the algorithm: short RSA, another curve, another type, a private key", async () => {
    const { token } = await signed('RS256');
    const fixed = (key: KeyObject): JWTVerifyGetKey => async () => key;
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    await expect(verifyCompactJws(token, 'RS256', fixed(short))).rejects.toThrow('2048 bits');
    const es = await signed('ES256');
    expect(await code(verifyCompactJws(es.token, 'ES256', fixed(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)))).toBe('ERR_JOSE_NOT_SUPPORTED');
    expect(await code(verifyCompactJws(es.token, 'ES256', fixed(generateKeyPairSync('ed25519').publicKey)))).toBe('ERR_JOSE_NOT_SUPPORTED');
    const ed = await signed('EdDSA');
    expect(await code(verifyCompactJws(ed.token, 'EdDSA', fixed(generateKeyPairSync('ed448').publicKey)))).toBe('ERR_JOSE_NOT_SUPPORTED');
    expect(await code(verifyCompactJws(es.token, 'ES256', fixed(es.pair.privateKey)))).toBe('ERR_JOSE_NOT_SUPPORTED');
    expect(await code(verifyCompactJws(es.token, 'ES256', fixed(es.pair.publicKey)))).toBe('accepted');
  });
});
