import { errors } from 'jose';
import type { JWTPayload } from 'jose';
import { OidcError } from '../errors.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import { isTimeout } from '../idp/upstream-error.js';
import { verifyCompactJws } from './jws-signature.js';

/** An ID token issued by the token endpoint is fresh; one issued long ago is a replay or a broken IdP. */
const MAX_ID_TOKEN_AGE_SEC = 3600;

/** RFC 7519 §4.1: iss, aud, exp and nbf as jwtVerify() checked them (openid-client has checked them too). */
function checkRegisteredClaims(payload: JWTPayload, issuer: string, clientId: string, now: number, toleranceSec: number): void {
  const refuse = (claim: string, message: string) => new errors.JWTClaimValidationFailed(message, payload, claim, 'check_failed');
  if (payload.iss !== issuer) throw refuse('iss', 'unexpected "iss" claim value');
  const audiences = typeof payload.aud === 'string' ? [payload.aud] : Array.isArray(payload.aud) ? payload.aud : [];
  if (!audiences.includes(clientId)) throw refuse('aud', 'unexpected "aud" claim value');
  if (typeof payload.exp !== 'number') throw refuse('exp', '"exp" claim must be a number');
  if (payload.exp <= now - toleranceSec) throw new errors.JWTExpired('"exp" claim timestamp check failed', payload, 'exp', 'check_failed');
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > now + toleranceSec)) throw refuse('nbf', '"nbf" claim timestamp check failed');
}

/**
 * openid-client validates the ID token's claims but, for tokens from the token endpoint, not its
 * signature. We verify it here with the IdP's JWKS, pinned to one algorithm (so `none` and HS256 keyed
 * with a public key can never pass), and bound `iat`, which openid-client only type-checks.
 */
export async function verifyIdTokenSignature(
  provider: DiscoveredProvider,
  idToken: string,
  nowMs: number,
  clockToleranceSec: number,
): Promise<JWTPayload> {
  const now = Math.floor(nowMs / 1000);
  let payload: JWTPayload;
  try {
    ({ payload } = await verifyCompactJws(idToken, provider.settings.idTokenSigningAlg, provider.jwks));
    checkRegisteredClaims(payload, provider.issuer, provider.settings.clientId, now, clockToleranceSec);
  } catch (err) {
    if (isTimeout(err)) throw new OidcError('ERR_OIDC_IDP_TIMEOUT', "The IdP's JWKS endpoint did not answer in time", { cause: err });
    const code = (err as { code?: string }).code ?? 'ERR_JWS_INVALID';
    throw new OidcError('ERR_OIDC_INVALID_ID_TOKEN', `The ID token failed signature verification (${code})`, { cause: err });
  }
  // Core 3.1.3.7: an azp, when present, must be us (openid-client checks it only for several audiences).
  if (payload.azp !== undefined && payload.azp !== provider.settings.clientId) {
    throw new OidcError('ERR_OIDC_INVALID_ID_TOKEN', 'The ID token "azp" names another client');
  }
  if (typeof payload.iat !== 'number' || payload.iat > now + clockToleranceSec || payload.iat < now - MAX_ID_TOKEN_AGE_SEC - clockToleranceSec) {
    throw new OidcError('ERR_OIDC_INVALID_ID_TOKEN', 'The ID token "iat" is missing, in the future or too old');
  }
  return payload;
}
