import type { ResolvedConfig } from '../config/resolved-config.js';
import { rawQuery, redirect } from '../http/messages.js';
import type { HttpRequest, HttpResult } from '../http/messages.js';
import { safeReturnTo } from '../http/return-to.js';
import type { DiscoverProvider } from '../idp/provider-client.js';
import type { SessionPort } from '../session/session-data.js';
import { allowedLoginParams, createLoginRequest } from './authorization-request.js';
import { holdsOnlyPendingLogins, withTransaction } from './transactions.js';

/** How a login differs from a plain `/login`: an app-started one, a guard's step-up, a silent attempt. */
export interface LoginOverrides {
  returnTo?: string;
  authorizationParams?: Record<string, string>;
  provider?: string;
  silent?: boolean;
  /**
   * The login starts from one of the app's pages (a guard, the silent login): that page's query is its
   * own (`/profile?prompt=login`), never login parameters, returnTo or provider for the IdP.
   */
  fromPage?: boolean;
}

/**
 * Starts a login: the return path (local only), the authorization parameters the app allows, the IdP;
 * the pending login is kept in the session under its `state` and the browser is sent to the IdP.
 */
export async function startLogin(cfg: ResolvedConfig, discovered: DiscoverProvider, req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
  session.assertCookieDeliverable?.();
  const query = new URLSearchParams(overrides.fromPage ? '' : rawQuery(req.url));
  const returnTo = safeReturnTo(overrides.returnTo ?? query.get('returnTo'), cfg.origin) ?? '/';
  const params = { ...allowedLoginParams(query, cfg.loginParams), ...overrides.authorizationParams };
  const providerId = overrides.provider ?? (cfg.multiProvider ? (query.get('provider') ?? undefined) : undefined);
  const provider = await discovered(providerId);
  const request = await createLoginRequest(cfg, provider, { returnTo, params, ...(overrides.silent ? { silent: true } : {}) });
  const nowSec = Math.floor(cfg.clock() / 1000);
  const pending = withTransaction(session.read(), request.state, request.transaction, nowSec, cfg.transactionTtlSec, cfg.maxTransactions);
  const data = overrides.silent ? { ...pending, silentTried: true } : pending;
  session.write(data);
  if (holdsOnlyPendingLogins(data, session.readAppData())) session.expireAfter(cfg.transactionTtlSec * 1000);
  await session.save();
  cfg.logger.debug('oidc-session: login started, redirecting to the IdP', { provider: provider.settings.id, silent: overrides.silent === true });
  return redirect(request.url.href);
}
