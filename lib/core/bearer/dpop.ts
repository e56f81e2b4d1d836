import { createHash } from 'node:crypto';
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, jwtVerify } from 'jose';
import type { JWK } from 'jose';
import { invalidDpopProof } from './challenge.js';
import type { ChallengeContext } from './challenge.js';

/** How old a proof may be (plus the clock tolerance). Proofs are made per request, so this stays short. */
export const DPOP_PROOF_MAX_AGE_SEC = 60;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** 4096 bits: a proof key may cost what a normal key costs to verify, not more (anyone can send one). */
const MAX_RSA_MODULUS_BYTES = 512;

export interface DpopProofCheck {
  ctx: ChallengeContext & { dpop: { algorithms: readonly string[] } };
  method: string;
  /** The API's configured public URL: its origin is the only one a proof may name. */
  baseUrl: URL;
  /** Path and query of the request as the app received it (Express / Koa `originalUrl`). */
  path: string;
  accessToken: string;
  nowMs: number;
  clockToleranceSec: number;
}

export interface DpopProof {
  /** RFC 7638 thumbprint of the proof key: must equal the token's `cnf.jkt`. */
  jkt: string;
  jti: string;
  /** Seconds the `jti` has to be remembered to refuse a replay. */
  replayWindowSec: number;
}

/**
 * RFC 9449 §4.3 step 9: scheme, host, port and path, ignoring query and fragment. Origin: the configured
 * one, never the request's `Host` / `X-Forwarded-Host` (a proof made for another server naming that
 * server's host would pass). Path: the request's, or the configured prefix + it when a proxy strips it.
 */
function sameTarget(htu: string, baseUrl: URL, path: string): boolean {
  let target: URL;
  try {
    target = new URL(htu);
  } catch {
    return false;
  }
  if (target.origin !== baseUrl.origin) return false;
  // Concatenated, not resolved: a path such as `//host/x` must stay a path. new URL() normalizes it as it did htu.
  let requestPath: string;
  try {
    requestPath = new URL(baseUrl.origin + path).pathname;
  } catch {
    return false;
  }
  const prefix = baseUrl.pathname.replace(/\/$/, '');
  return target.pathname === requestPath || (prefix !== '' && target.pathname === prefix + requestPath);
}

/** RFC 9449 allows any key; we verify only keys as cheap as the usual ones (RSA: e = 65537, at most 4096 bits). */
function costlyKey(proof: string): boolean {
  let jwk: unknown;
  try {
    jwk = decodeProtectedHeader(proof).jwk;
  } catch {
    return false; // malformed: jwtVerify says so
  }
  if (typeof jwk !== 'object' || jwk === null || (jwk as { kty?: unknown }).kty !== 'RSA') return false;
  const { e, n } = jwk as { e?: unknown; n?: unknown };
  return e !== 'AQAB' || typeof n !== 'string' || Buffer.from(n, 'base64url').length > MAX_RSA_MODULUS_BYTES;
}

/**
 * Validates a DPoP proof (RFC 9449 §4.3): one well-formed header, typ dpop+jwt, an allowed asymmetric
 * algorithm, a public `jwk` in the header that verifies the signature, htm / htu matching this request,
 * a fresh `iat`, and `ath` = hash of the presented access token. The `jti` replay check and the binding
 * to the token's `cnf.jkt` are the caller's, once the token itself is known to be good.
 */
export async function verifyDpopProof(proof: string | undefined, check: DpopProofCheck): Promise<DpopProof> {
  const fail = (description: string, cause?: unknown) => invalidDpopProof(check.ctx, description, cause);
  if (proof === undefined || proof === '') throw fail('A DPoP proof header is required with the DPoP scheme');
  // Node joins repeated headers with ", ", which no compact JWS contains: one check covers both cases.
  if (!COMPACT_JWS.test(proof)) throw fail('The DPoP header must be exactly one compact JWS');
  if (costlyKey(proof)) throw fail('The DPoP proof key is an RSA key with an exponent other than 65537 or over 4096 bits');
  let verified;
  try {
    verified = await jwtVerify(proof, EmbeddedJWK, {
      typ: 'dpop+jwt',
      algorithms: [...check.ctx.dpop.algorithms],
      requiredClaims: ['jti', 'htm', 'htu', 'iat'],
      currentDate: new Date(check.nowMs),
      clockTolerance: check.clockToleranceSec,
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const description = code === 'ERR_JOSE_ALG_NOT_ALLOWED' || code === 'ERR_JOSE_NOT_SUPPORTED'
      ? 'The DPoP proof uses an algorithm this API does not accept'
      : code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' || code === 'ERR_JWT_EXPIRED'
        ? `The DPoP proof failed the ${(err as { claim?: string }).claim ?? 'claim'} check`
        : 'The DPoP proof is malformed or its signature is invalid';
    throw fail(description, err);
  }
  const { payload, protectedHeader } = verified;
  if (payload.htm !== check.method) throw fail('The DPoP proof was made for another HTTP method');
  if (typeof payload.htu !== 'string' || !sameTarget(payload.htu, check.baseUrl, check.path)) throw fail('The DPoP proof was made for another URL');
  const nowSec = check.nowMs / 1000;
  const iat = payload.iat as number;
  if (iat > nowSec + check.clockToleranceSec || iat < nowSec - DPOP_PROOF_MAX_AGE_SEC - check.clockToleranceSec) {
    throw fail('The DPoP proof is too old or from the future');
  }
  const ath = createHash('sha256').update(check.accessToken, 'ascii').digest('base64url');
  if (payload.ath !== ath) throw fail('The DPoP proof is not bound to this access token (ath)');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0 || payload.jti.length > 256) throw fail('The DPoP proof has no usable jti');
  return {
    jkt: await calculateJwkThumbprint(protectedHeader.jwk as JWK, 'sha256'),
    jti: payload.jti,
    replayWindowSec: DPOP_PROOF_MAX_AGE_SEC + 2 * check.clockToleranceSec,
  };
}

/** Lock key for a proof id: scoped to the key so two clients cannot collide, hashed so its length is fixed. */
export function dpopReplayKey(proof: DpopProof): string {
  return 'dpop-jti:' + createHash('sha256').update(`${proof.jkt}\n${proof.jti}`).digest('base64url').slice(0, 32);
}
