import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import { isCrossSite, rawQuery, redirect } from '../http/messages.js';
import type { HttpRequest, HttpResult } from '../http/messages.js';
import { safeReturnTo } from '../http/return-to.js';
import type { DiscoverProvider } from '../idp/provider-client.js';
import type { SessionPort } from '../session/session-data.js';
import type { OidcUser } from '../session/user.js';
import { endSessionUrl, revokeInBackground } from './idp-logout.js';

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
  user: OidcUser | undefined;
}

/**
 * Logout, start to end: refused when another site started it; the local session is destroyed and
 * unindexed (with a silent login enabled, a session marked logged out stays instead), `onLogout` runs, the
 * tokens are revoked in the background, and the browser goes to the IdP's end-session
 * endpoint (idpLogout) or to a local page.
 */
export async function handleLogout(cfg: ResolvedConfig, discovered: DiscoverProvider, input: LogoutInput, overrides: LogoutOverrides = {}): Promise<HttpResult> {
  const { req, session, appReq, user } = input;
  if (isCrossSite(req, cfg.origin)) {
    throw new OidcError('ERR_OIDC_CROSS_SITE_REQUEST', 'Logout must be started from this site');
  }
  const auth = session.read()?.auth;
  const sessionId = session.id();
  if (auth && cfg.attemptSilentLogin) {
    // A destroyed session would look like a first visit, and prompt=none would log the user straight back in.
    await session.regenerate();
    session.write({ loggedOut: true });
    await session.save();
  } else {
    await session.destroy();
  }
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
  if (auth && cfg.revokeTokens) revokeInBackground(cfg, () => discovered(auth.provider), auth);
  let idpTarget: URL | undefined;
  if (idpLogout) {
    try {
      idpTarget = endSessionUrl(cfg, await discovered(auth?.provider), auth);
    } catch (err) {
      // The session is gone already; without the IdP's metadata the user still lands logged out here.
      cfg.logger.warn('oidc-session: IdP logout skipped, its metadata could not be read', { code: (err as { code?: string }).code });
    }
  }
  cfg.logger.info('oidc-session: logout', { sub: auth?.sub, idp: idpTarget !== undefined });
  return redirect(idpTarget?.href ?? localTarget, status);
}
