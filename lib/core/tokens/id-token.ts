import { jwtVerify } from 'jose';
import type { JWTPayload } from 'jose';
import { OidcError } from '../errors.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import { isTimeout } from '../idp/upstream-error.js';

/** An ID token issued by the token endpoint is fresh; one issued long ago is a replay or a broken IdP. */
const MAX_ID_TOKEN_AGE_SEC = 3600;

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
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, provider.jwks, {
      algorithms: [provider.settings.idTokenSigningAlg],
      issuer: provider.issuer,
      audience: provider.settings.clientId,
      clockTolerance: clockToleranceSec,
      currentDate: new Date(nowMs),
    }));
  } catch (err) {
    if (isTimeout(err)) throw new OidcError('ERR_OIDC_IDP_TIMEOUT', "The IdP's JWKS endpoint did not answer in time", { cause: err });
    const code = (err as { code?: string }).code ?? 'ERR_JWS_INVALID';
    throw new OidcError('ERR_OIDC_INVALID_ID_TOKEN', `The ID token failed signature verification (${code})`, { cause: err });
  }
  // Core 3.1.3.7: an azp, when present, must be us (openid-client checks it only for several audiences).
  if (payload.azp !== undefined && payload.azp !== provider.settings.clientId) {
    throw new OidcError('ERR_OIDC_INVALID_ID_TOKEN', 'The ID token "azp" names another client');
  }
  const now = Math.floor(nowMs / 1000);
  if (typeof payload.iat !== 'number' || payload.iat > now + clockToleranceSec || payload.iat < now - MAX_ID_TOKEN_AGE_SEC - clockToleranceSec) {
    throw new OidcError('ERR_OIDC_INVALID_ID_TOKEN', 'The ID token "iat" is missing, in the future or too old');
  }
  return payload;
}
