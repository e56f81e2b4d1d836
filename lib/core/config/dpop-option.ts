import type { JWK } from 'jose';
import type { DpopOption } from './options.js';
import { invalidFor } from './validators.js';
import type { webcrypto } from 'node:crypto';
import { isCryptoKey } from './web-crypto.js';

export type { DpopOption } from './options.js';

const invalid = invalidFor('oidc()');

/** `dpop` after validation: undefined when off. */
export type ResolvedDpop = { readonly mode: 'session' } | { readonly mode: 'app'; readonly key: webcrypto.CryptoKeyPair | JWK };

export function isKeyPair(value: unknown): value is webcrypto.CryptoKeyPair {
  const pair = value as Partial<webcrypto.CryptoKeyPair> | null;
  return typeof pair === 'object' && pair !== null && isCryptoKey(pair.privateKey) && isCryptoKey(pair.publicKey);
}

/** Checked once at construction; the JWK itself is imported at the first login (import is async). */
export function resolveDpop(value: unknown): ResolvedDpop | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return Object.freeze({ mode: 'session' });
  if (isKeyPair(value)) {
    if (value.privateKey.type !== 'private' || value.publicKey.type !== 'public' || !value.publicKey.extractable) {
      throw invalid('"dpop" key pair needs a private key and an extractable public key');
    }
    return Object.freeze({ mode: 'app', key: value });
  }
  const jwk = value as JWK | null;
  if (typeof jwk === 'object' && jwk !== null && typeof jwk.kty === 'string' && typeof jwk.d === 'string' && jwk.kty !== 'oct') {
    return Object.freeze({ mode: 'app', key: Object.freeze({ ...jwk }) });
  }
  throw invalid('"dpop" must be true, false, a CryptoKeyPair or a private asymmetric JWK (EC, OKP or RSA with "alg" for RSA)');
}

/** The JWS algorithm a key signs with (DPoP proofs, request objects). */
export function algFromKey(key: webcrypto.CryptoKey): string {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } };
  if (algorithm.name === 'ECDSA') return algorithm.namedCurve === 'P-384' ? 'ES384' : algorithm.namedCurve === 'P-521' ? 'ES512' : 'ES256';
  if (algorithm.name === 'Ed25519') return 'EdDSA';
  const bits = algorithm.hash?.name.replace('SHA-', '') ?? '256';
  return algorithm.name === 'RSA-PSS' ? `PS${bits}` : `RS${bits}`;
}
