import * as client from 'openid-client';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import { verifyIdTokenSignature } from './id-token.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import { assertSameLogin } from './refresh-checks.js';
import type { AuthenticatedSession } from '../session/session-data.js';
import { toIdpError } from '../idp/upstream-error.js';
import type { ClaimsCache } from '../session/user.js';

/**
 * openid-client takes the timeout from the Configuration and reads it synchronously when a grant starts,
 * so the redemption gets its own longer timeout without touching concurrent calls.
 */
function refreshGrant(
  config: client.Configuration,
  refreshToken: string,
  timeoutSec: number,
  dpop: client.DPoPOptions | undefined,
): ReturnType<typeof client.refreshTokenGrant> {
  const previous = config.timeout;
  config.timeout = timeoutSec;
  try {
    return client.refreshTokenGrant(config, refreshToken, undefined, dpop);
  } finally {
    config.timeout = previous;
  }
}

/**
 * One refresh_token grant at the IdP, its answer checked (a refreshed ID token must describe the same
 * login) and turned into the session's new login. Whatever the answer holds: a new refresh token or not,
 * an ID token or not, `expires_in` or not.
 */
export async function redeemRefreshToken(
  cfg: ResolvedConfig,
  provider: DiscoveredProvider,
  claims: ClaimsCache,
  auth: AuthenticatedSession,
  refreshToken: string,
  timeoutMs: number,
  dpop?: client.DPoPOptions,
): Promise<AuthenticatedSession> {
  let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
  try {
    tokens = await refreshGrant(provider.config, refreshToken, timeoutMs / 1000, dpop);
  } catch (err) {
    const error = toIdpError(err, 'refresh');
    if (error.code === 'ERR_OIDC_INVALID_ID_TOKEN') {
      throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'The refreshed ID token failed validation; the session has ended', { cause: err });
    }
    throw error;
  }
  const now = cfg.clock();
  let idToken = auth.idToken;
  let sid = auth.sid;
  if (tokens.id_token) {
    let fresh;
    try {
      fresh = await verifyIdTokenSignature(provider, tokens.id_token, now, cfg.clockToleranceSec);
    } catch (err) {
      throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'The refreshed ID token failed validation; the session has ended', { cause: err });
    }
    assertSameLogin(claims.get(auth.idToken), fresh);
    idToken = tokens.id_token;
    if (typeof fresh.sid === 'string') sid = fresh.sid;
  }
  const expiresIn = tokens.expiresIn();
  const refreshed: AuthenticatedSession = {
    ...auth,
    idToken,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? refreshToken,
    ...(sid !== undefined ? { sid } : {}),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
  };
  if (expiresIn !== undefined) refreshed.expiresAt = Math.floor(now / 1000) + expiresIn;
  else delete refreshed.expiresAt;
  return refreshed;
}
