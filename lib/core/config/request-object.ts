import type { ServerMetadata } from 'openid-client';
import { importJWK, importPKCS8 } from 'jose';
import type { JWK } from 'jose';
import { invalidFor } from './validators.js';
import { algFromKey } from './dpop-option.js';
import { OidcError } from '../errors.js';
import type { webcrypto } from 'node:crypto';
import { isCryptoKey } from './web-crypto.js';

const invalid = invalidFor('oidc()');

import type { RequestObjectOptions } from './options.js';

export type { RequestObjectOptions } from './options.js';

export interface ResolvedRequestObject {
  readonly key: webcrypto.CryptoKey | JWK | string;
  readonly alg: string;
  readonly kid: string | undefined;
}

const ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);

/** Checked once at construction; `name` is the option's full name (`requestObject`, `providers[1].requestObject`). */
export function resolveRequestObject(value: unknown, name: string): ResolvedRequestObject | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`"${name}" must be an object { key, alg }`);
  for (const key of Object.keys(value)) if (key !== 'key' && key !== 'alg') throw invalid(`unknown option "${name}.${key}"`);
  const { key, alg } = value as Partial<RequestObjectOptions>;
  let derived: string | undefined;
  let kid: string | undefined;
  if (isCryptoKey(key)) {
    if (key.type !== 'private') throw invalid(`"${name}.key" must be a private key`);
    derived = algFromKey(key);
  } else if (typeof key === 'string') {
    if (!key.includes('PRIVATE KEY')) throw invalid(`"${name}.key" must be a PKCS#8 PEM private key`);
  } else if (typeof key === 'object' && key !== null && typeof (key as JWK).d === 'string' && (key as JWK).kty !== 'oct') {
    derived = (key as JWK).alg;
    kid = (key as JWK).kid;
  } else {
    throw invalid(`"${name}.key" must be a private CryptoKey, a private asymmetric JWK or a PKCS#8 PEM string`);
  }
  const resolved = alg ?? derived ?? 'RS256';
  if (!ALGS.has(resolved)) throw invalid(`"${name}.alg" must be an asymmetric JWS algorithm (${[...ALGS].join(', ')})`);
  return Object.freeze({ key, alg: resolved, kid });
}

/**
 * Refuses the option when the IdP's metadata says it cannot verify the request object: no `request`
 * parameter support (without PAR), or the algorithm missing from request_object_signing_alg_values_supported.
 */
export function assertRequestObjectSupported(ro: ResolvedRequestObject, server: ServerMetadata, withPar: boolean, name: string): void {
  if (!withPar && server.request_parameter_supported !== true) {
    throw invalid(`"${name}": the IdP does not accept signed request objects (request_parameter_supported is not true)`);
  }
  const algs = server.request_object_signing_alg_values_supported;
  if (!Array.isArray(algs) || !algs.includes(ro.alg)) {
    throw invalid(`"${name}.alg" ${ro.alg} is not in the IdP's request_object_signing_alg_values_supported (${Array.isArray(algs) ? algs.join(', ') : 'none'})`);
  }
}

/** The signing key as openid-client takes it (imported once, at discovery). */
export async function requestObjectKey(ro: ResolvedRequestObject, name: string): Promise<{ key: webcrypto.CryptoKey; kid?: string }> {
  try {
    const key = isCryptoKey(ro.key) ? ro.key : typeof ro.key === 'string' ? await importPKCS8(ro.key, ro.alg) : await importJWK(ro.key, ro.alg);
    return { key: key as webcrypto.CryptoKey, ...(ro.kid ? { kid: ro.kid } : {}) };
  } catch (err) {
    throw new OidcError('ERR_OIDC_INVALID_CONFIG', `oidc(): "${name}.key" could not be imported for ${ro.alg}`, { cause: err });
  }
}
