import { replayKey, verifyLogoutToken } from './logout-token.js';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import { json } from '../http/messages.js';
import type { HttpRequest, HttpResult } from '../http/messages.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import { toIdpError } from '../idp/upstream-error.js';

/** Destroys a session in the store by id (back-channel logout reaches sessions that sent no cookie). */
export type DestroySession = (sessionId: string) => Promise<void>;

/**
 * Back-Channel Logout 1.0: validate the logout token, refuse a replayed jti, then destroy the named
 * sessions in the store so their very next request is anonymous (no per-request "logged out?" lookup).
 */
export async function handleBackchannelLogout(
  cfg: ResolvedConfig,
  provider: () => Promise<DiscoveredProvider>,
  req: HttpRequest,
  body: string,
  destroySession: DestroySession,
): Promise<HttpResult> {
  const noStore = { 'Cache-Control': 'no-store' };
  try {
    if (req.method !== 'POST') throw new OidcError('ERR_OIDC_METHOD_NOT_ALLOWED', 'Back-channel logout accepts POST only');
    const tokens = new URLSearchParams(body).getAll('logout_token');
    if (tokens.length !== 1 || !tokens[0]) throw new OidcError('ERR_OIDC_INVALID_LOGOUT_TOKEN', 'Expected exactly one logout_token');
    const claims = await verifyLogoutToken(cfg, await provider(), tokens[0]);
    if (!(await cfg.lock.acquire(replayKey(claims), claims.replayWindowMs))) {
      throw new OidcError('ERR_OIDC_INVALID_LOGOUT_TOKEN', 'This logout token was already used (jti replay)');
    }
    const query = claims.sid ? { iss: claims.iss, sid: claims.sid } : { iss: claims.iss, ...(claims.sub ? { sub: claims.sub } : {}) };
    const ids = await cfg.sessionIndex.find(query);
    for (const id of ids) {
      await destroySession(id);
      await cfg.sessionIndex.remove(query, id);
    }
    cfg.logger.info('oidc-session: back-channel logout', { sessions: ids.length });
    return { status: 200, headers: noStore, body: '' };
  } catch (err) {
    const error = err instanceof OidcError ? err : toIdpError(err, 'jwks');
    cfg.logger.warn('oidc-session: back-channel logout rejected', { code: error.code, reason: error.message });
    if (error.status === 405) return json(405, { error: 'invalid_request', error_description: error.message }, { Allow: 'POST' });
    // Our own store being down is not the token's fault: a 5xx lets the IdP retry the delivery.
    if (error.code === 'ERR_OIDC_STORE_UNAVAILABLE') return json(503, { error: 'temporarily_unavailable', error_description: error.message }, { ...noStore, 'Retry-After': '1' });
    return json(400, { error: 'invalid_request', error_description: error.message }, noStore);
  }
}
