import { KeyObject, constants, verify } from 'node:crypto';
import type { VerifyKeyObjectInput } from 'node:crypto';
import { errors } from 'jose';
import type { CompactJWSHeaderParameters, JWTVerifyGetKey } from 'jose';

/** How node:crypto checks each asymmetric JWS algorithm we accept (RFC 7518 §3.3-3.5, RFC 8037). */
interface Scheme {
  hash: string | null;
  keyTypes: readonly string[];
  curve?: string;
  /** node:crypto's verify() options besides the key: RSA-PSS padding and salt, or ECDSA's JOSE signature encoding. */
  params?: Omit<VerifyKeyObjectInput, 'key'>;
}

const RSA = ['rsa'];
const PSS = ['rsa', 'rsa-pss'];
/** RFC 7518 §3.5: the salt is as long as the hash. */
const PSS_PARAMS = { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
/** RFC 7518 §3.4: R || S, not DER. */
const ECDSA_PARAMS = { dsaEncoding: 'ieee-p1363' } as const;
const SCHEMES: Readonly<Record<string, Scheme>> = Object.freeze({
  RS256: { hash: 'sha256', keyTypes: RSA },
  RS384: { hash: 'sha384', keyTypes: RSA },
  RS512: { hash: 'sha512', keyTypes: RSA },
  PS256: { hash: 'sha256', keyTypes: PSS, params: PSS_PARAMS },
  PS384: { hash: 'sha384', keyTypes: PSS, params: PSS_PARAMS },
  PS512: { hash: 'sha512', keyTypes: PSS, params: PSS_PARAMS },
  ES256: { hash: 'sha256', keyTypes: ['ec'], curve: 'prime256v1', params: ECDSA_PARAMS },
  ES384: { hash: 'sha384', keyTypes: ['ec'], curve: 'secp384r1', params: ECDSA_PARAMS },
  ES512: { hash: 'sha512', keyTypes: ['ec'], curve: 'secp521r1', params: ECDSA_PARAMS },
  // As jose v6, which the key set imports with: Ed25519 keys only.
  EdDSA: { hash: null, keyTypes: ['ed25519'] },
  Ed25519: { hash: null, keyTypes: ['ed25519'] },
});

/** RFC 7518 §3.3 and §3.5: RSA keys of at least 2048 bits (jose refuses shorter ones too). */
const MIN_RSA_BITS = 2048;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export interface VerifiedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

function jsonObject(segment: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new errors.JWSInvalid(`The JWS ${what} is not a JSON object`);
  return value as Record<string, unknown>;
}

function usableKey(key: Awaited<ReturnType<JWTVerifyGetKey>>, scheme: Scheme): KeyObject {
  // jose's key sets hand out WebCrypto keys imported for the header's alg; node:crypto checks with the same key material.
  const keyObject = key instanceof KeyObject ? key : key instanceof CryptoKey ? KeyObject.from(key) : undefined;
  const type = keyObject?.asymmetricKeyType;
  if (!keyObject || keyObject.type !== 'public' || type === undefined || !scheme.keyTypes.includes(type)) {
    throw new errors.JOSENotSupported('The key for this JWS is not a public key of its algorithm');
  }
  const details = keyObject.asymmetricKeyDetails;
  if (scheme.curve !== undefined && details?.namedCurve !== scheme.curve) throw new errors.JOSENotSupported('The EC key is not on the curve of the JWS algorithm');
  if (type.startsWith('rsa') && (details?.modulusLength ?? 0) < MIN_RSA_BITS) throw new TypeError(`RSA keys must be ${MIN_RSA_BITS} bits or larger`);
  return keyObject;
}

/**
 * Verifies a compact JWS signed with `alg` (and nothing else), the key chosen by `getKey` (jose's JWKS
 * lookup), and returns its header and payload; claims are the caller's to check. node:crypto checks the
 * signature here, not jose: jose goes through WebCrypto, which costs ~110 µs of CPU per ID token against
 * ~30 µs (BENCHMARKS.md). Errors are jose's classes, so their codes read as before.
 */
export async function verifyCompactJws(token: string, alg: string, getKey: JWTVerifyGetKey): Promise<VerifiedJws> {
  const scheme = Object.hasOwn(SCHEMES, alg) ? SCHEMES[alg] : undefined;
  if (!scheme) throw new errors.JOSENotSupported(`Unsupported JWS algorithm ${alg}`);
  const parts = token.split('.');
  // Buffer's decoder drops a lone trailing character (length 4n+1) that no encoder writes: refused, as jose does.
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part) && part.length % 4 !== 1)) throw new errors.JWSInvalid('Invalid compact JWS');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = jsonObject(encodedHeader, 'protected header');
  if (header.alg !== alg) throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  // No extension is understood here, so none may be critical (RFC 7515 §4.1.11); that also covers b64=false.
  if (header.crit !== undefined) throw new errors.JOSENotSupported('The JWS has critical header parameters');
  const key = usableKey(await getKey(header as unknown as CompactJWSHeaderParameters, { payload: encodedPayload, signature: encodedSignature }), scheme);
  const signed = Buffer.from(`${encodedHeader}.${encodedPayload}`, 'ascii');
  if (!verify(scheme.hash, signed, { ...scheme.params, key }, Buffer.from(encodedSignature, 'base64url'))) throw new errors.JWSSignatureVerificationFailed();
  return { header, payload: jsonObject(encodedPayload, 'payload') };
}
