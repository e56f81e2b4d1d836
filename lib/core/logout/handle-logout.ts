import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import { isCrossSite, rawQuery, redirect } from '../http/messages.js';
import type { HttpRequest, HttpResult } from '../http/messages.js';
import { safeReturnTo } from '../http/return-to.js';
import type { DiscoverProvider } from '../idp/provider-client.js';
import type { SessionPort } from '../session/session-data.js';
import { endSessionUrl, revokeTokens } from './idp-logout.js';

/** How an app-started logout (`res.oidc.logout()`, `ctx.state.oidc.logout()`) differs from the route's. */
export interface LogoutOverrides {
  /** Also end the session at the IdP, whatever the `idpLogout` option says. */
  idpLogout?: boolean;
  /** Local path to land on when the IdP is not involved (same rules as `?returnTo=`). */
  returnTo?: string;
}

export interface LogoutInput {
  req: HttpRequest;
  session: SessionPort;
  /** The framework's request, for `onLogout`. */
  appReq: unknown;
  /** The user logging out, for `onLogout`. */
  user: Record<string, unknown> | undefined;
}

/**
 * Logout, start to end: refused when another site started it; the local session is destroyed and
 * unindexed, `onLogout` runs, the tokens are revoked, and the browser goes to the IdP's end-session
 * endpoint (idpLogout) or to a local page.
 */
export async function handleLogout(cfg: ResolvedConfig, discovered: DiscoverProvider, input: LogoutInput, overrides: LogoutOverrides = {}): Promise<HttpResult> {
  const { req, session, appReq, user } = input;
  if (isCrossSite(req, cfg.origin)) {
    throw new OidcError('ERR_OIDC_CROSS_SITE_REQUEST', 'Logout must be started from this site');
  }
  const auth = session.read()?.auth;
  const sessionId = session.id();
  await session.destroy();
  const status = req.method === 'POST' ? 303 : 302;
  const idpLogout = overrides.idpLogout ?? cfg.idpLogout;
  const returnTo = overrides.returnTo ?? new URLSearchParams(rawQuery(req.url)).get('returnTo');
  const localTarget = safeReturnTo(returnTo, cfg.origin) ?? cfg.baseUrl.href;
  if (auth) {
    await cfg.sessionIndex.remove(auth, sessionId).catch((err: unknown) => {
      cfg.logger.warn('oidc-session: session index removal failed', { code: (err as { code?: string }).code });
    });
  }
  await cfg.onLogout?.({ user, provider: auth?.provider, req: appReq });
  if (!auth && !idpLogout) return redirect(localTarget, status);
  const provider = await discovered(auth?.provider);
  if (auth && cfg.revokeTokens) await revokeTokens(cfg, provider, auth);
  const idpTarget = idpLogout ? endSessionUrl(cfg, provider, auth) : undefined;
  cfg.logger.info('oidc-session: logout', { sub: auth?.sub, idp: idpTarget !== undefined });
  return redirect(idpTarget?.href ?? localTarget, status);
}
