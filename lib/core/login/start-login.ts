import type { ResolvedConfig } from '../config/resolved-config.js';
import { rawQuery, redirect } from '../http/messages.js';
import type { HttpRequest, HttpResult } from '../http/messages.js';
import { safeReturnTo } from '../http/return-to.js';
import type { DiscoverProvider } from '../idp/provider-client.js';
import type { SessionPort } from '../session/session-data.js';
import { allowedLoginParams, createLoginRequest } from './authorization-request.js';
import { withTransaction } from './transactions.js';

/** How a login differs from a plain `/login`: an app-started one, a guard's step-up, a silent attempt. */
export interface LoginOverrides {
  returnTo?: string;
  authorizationParams?: Record<string, string>;
  provider?: string;
  silent?: boolean;
}

/**
 * Starts a login: the return path (local only), the authorization parameters the app allows, the IdP;
 * the pending login is kept in the session under its `state` and the browser is sent to the IdP.
 */
export async function startLogin(cfg: ResolvedConfig, discovered: DiscoverProvider, req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
  const query = new URLSearchParams(rawQuery(req.url));
  const returnTo = safeReturnTo(overrides.returnTo ?? query.get('returnTo'), cfg.origin) ?? '/';
  const params = { ...allowedLoginParams(query, cfg.loginParams), ...overrides.authorizationParams };
  const providerId = overrides.provider ?? (cfg.multiProvider ? (query.get('provider') ?? undefined) : undefined);
  const provider = await discovered(providerId);
  const request = await createLoginRequest(cfg, provider, { returnTo, params, ...(overrides.silent ? { silent: true } : {}) });
  const nowSec = Math.floor(cfg.clock() / 1000);
  const data = withTransaction(session.read(), request.state, request.transaction, nowSec, cfg.transactionTtlSec, cfg.maxTransactions);
  session.write(overrides.silent ? { ...data, silentTried: true } : data);
  await session.save();
  return redirect(request.url.href);
}
