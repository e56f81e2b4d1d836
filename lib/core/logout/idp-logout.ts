import * as client from 'openid-client';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import type { AuthenticatedSession } from '../session/session-data.js';
import { toIdpError } from '../idp/upstream-error.js';

/**
 * RFC 7009 revocation at logout: refresh token first (it outlives the access token), then the access
 * token. A failure is logged and never blocks the logout.
 */
export async function revokeTokens(cfg: ResolvedConfig, provider: DiscoveredProvider, auth: AuthenticatedSession): Promise<void> {
  if (!provider.metadata.revocation_endpoint) return;
  const tokens: Array<[string, string]> = [];
  if (auth.refreshToken) tokens.push([auth.refreshToken, 'refresh_token']);
  tokens.push([auth.accessToken, 'access_token']);
  for (const [token, hint] of tokens) {
    try {
      await client.tokenRevocation(provider.config, token, { token_type_hint: hint });
    } catch (err) {
      const error = toIdpError(err, 'revocation');
      cfg.logger.warn('oidc-session: token revocation failed', { code: error.code, tokenType: hint });
    }
  }
}

/**
 * Revocation after the logout was answered: logging out locally never waits for the IdP (each call is
 * bounded by `httpTimeout`; a hung IdP costs two timeouts in the background, not the user's time).
 */
export function revokeInBackground(cfg: ResolvedConfig, discover: () => Promise<DiscoveredProvider>, auth: AuthenticatedSession): void {
  discover()
    .then((provider) => revokeTokens(cfg, provider, auth))
    .catch((err: unknown) => cfg.logger.warn('oidc-session: token revocation failed', { code: (err as { code?: string }).code }));
}

/** RP-initiated logout URL, or undefined when the IdP has no end_session_endpoint. */
export function endSessionUrl(cfg: ResolvedConfig, provider: DiscoveredProvider, auth: AuthenticatedSession | undefined): URL | undefined {
  if (!provider.metadata.end_session_endpoint) return undefined;
  const postLogout = new URL(cfg.baseUrl.href);
  postLogout.pathname = cfg.baseUrl.pathname.replace(/\/$/, '') + cfg.routes.postLogoutRedirect;
  return client.buildEndSessionUrl(provider.config, {
    post_logout_redirect_uri: postLogout.href,
    state: client.randomState(),
    ...(auth?.idToken ? { id_token_hint: auth.idToken } : {}),
  });
}
