import * as client from 'openid-client';
import { completeCallback, parseCallbackParams } from './callback.js';
import { resolveConfig } from './config.js';
import type { ResolvedConfig } from './config.js';
import { OidcError } from './errors.js';
import { isCrossSite, json, pathOf, rawQuery, redirect, wantsHtml } from './http.js';
import type { HttpRequest, HttpResult } from './http.js';
import { allowedLoginParams, createLoginRequest } from './login.js';
import type { OidcOptions } from './options.js';
import { ProviderClient } from './provider-client.js';
import type { AuthenticatedSession, OidcSessionData, SessionPort } from './session-data.js';
import { safeReturnTo } from './return-to.js';
import { pruneTransactions, takeTransaction, withTransaction } from './transactions.js';
import { toIdpError } from './upstream-error.js';
import { ClaimsCache } from './user.js';

export type RouteName = 'login' | 'callback' | 'logout';

export interface LoginOverrides {
  returnTo?: string;
  authorizationParams?: Record<string, string>;
}

/**
 * The framework-free heart of oidc-session: one instance per `oidc()` call, holding the validated
 * configuration, the lazily discovered providers and the per-instance caches. Adapters translate
 * requests into `HttpRequest` + `SessionPort` and write back the `HttpResult`.
 */
export class OidcEngine {
  readonly cfg: ResolvedConfig;
  readonly claims = new ClaimsCache();
  private readonly providers: Map<string, ProviderClient>;
  private readonly routeTable: Map<string, RouteName>;

  constructor(options: OidcOptions) {
    this.cfg = resolveConfig(options);
    this.providers = new Map(this.cfg.providers.map((p) => [p.id, new ProviderClient(this.cfg, p)]));
    const { routes } = this.cfg;
    this.routeTable = new Map<string, RouteName>([[routes.login, 'login'], [routes.logout, 'logout']]);
    for (const p of this.cfg.providers) this.routeTable.set(p.callbackPath, 'callback');
  }

  /** Which of our routes a request path is, if any. */
  route(url: string): RouteName | undefined {
    return this.routeTable.get(pathOf(url));
  }

  providerClient(id?: string): ProviderClient {
    const found = id === undefined ? this.providers.values().next().value : this.providers.get(id);
    if (!found) throw new OidcError('ERR_OIDC_UNKNOWN_PROVIDER', 'Unknown identity provider');
    return found;
  }

  /** The login in the session, unless it is missing or past its absolute lifetime. */
  authenticated(data: OidcSessionData | undefined): AuthenticatedSession | undefined {
    const auth = data?.auth;
    if (!auth) return undefined;
    const nowSec = this.cfg.clock() / 1000;
    if (nowSec >= auth.authenticatedAt + this.cfg.absoluteDurationSec) return undefined;
    if (!this.providers.has(auth.provider)) return undefined;
    return auth;
  }

  async login(req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
    const query = new URLSearchParams(rawQuery(req.url));
    const returnTo = safeReturnTo(overrides.returnTo ?? query.get('returnTo'), this.cfg.origin) ?? '/';
    const params = { ...allowedLoginParams(query, this.cfg.loginParams), ...overrides.authorizationParams };
    const provider = await this.providerClient().get();
    const request = await createLoginRequest(this.cfg, provider, { returnTo, params });
    const nowSec = Math.floor(this.cfg.clock() / 1000);
    session.write(withTransaction(session.read(), request.state, request.transaction, nowSec, this.cfg.transactionTtlSec, this.cfg.maxTransactions));
    await session.save();
    return redirect(request.url.href);
  }

  /** `rawParams`: the query string (GET) or the urlencoded body (POST, response_mode=form_post). */
  async callback(req: HttpRequest, session: SessionPort, rawParams: string): Promise<HttpResult> {
    const { params, state } = parseCallbackParams(rawParams);
    const data = session.read();
    const { tx, rest } = takeTransaction(data, state);
    if (!tx) {
      throw new OidcError('ERR_OIDC_MISSING_TRANSACTION', 'No pending login matches this callback (unknown, expired or already used "state")');
    }
    session.write({ ...data, transactions: rest });
    const nowSec = Math.floor(this.cfg.clock() / 1000);
    try {
      if (nowSec - tx.createdAt >= this.cfg.transactionTtlSec) {
        throw new OidcError('ERR_OIDC_MISSING_TRANSACTION', 'The pending login for this callback has expired; start again');
      }
      const provider = await this.providerClient(tx.provider).get();
      const auth = await completeCallback(this.cfg, provider, params, state, tx);
      const pending = pruneTransactions(rest, nowSec, this.cfg.transactionTtlSec, this.cfg.maxTransactions);
      await session.regenerate();
      session.write({ ...(Object.keys(pending).length ? { transactions: pending } : {}), auth });
      await session.save();
      this.cfg.logger.info('oidc-session: login', { sub: auth.sub, iss: auth.iss });
      return redirect(tx.returnTo, req.method === 'POST' ? 303 : 302);
    } catch (err) {
      const error = err instanceof OidcError ? err : toIdpError(err, 'token');
      this.cfg.logger.warn('oidc-session: login failed', { code: error.code, cause: (error.cause as { code?: string })?.code });
      await session.save().catch(() => undefined);
      throw error;
    }
  }

  async logout(req: HttpRequest, session: SessionPort): Promise<HttpResult> {
    if (isCrossSite(req, this.cfg.origin)) {
      throw new OidcError('ERR_OIDC_CROSS_SITE_REQUEST', 'Logout must be started from this site');
    }
    const auth = session.read()?.auth;
    await session.destroy();
    const status = req.method === 'POST' ? 303 : 302;
    const home = new URL(this.cfg.baseUrl.href);
    const localTarget = safeReturnTo(new URLSearchParams(rawQuery(req.url)).get('returnTo'), this.cfg.origin);
    if (!this.cfg.idpLogout) return redirect(localTarget ?? home.href, status);
    const provider = await this.providerClient(auth?.provider).get();
    if (!provider.config.serverMetadata().end_session_endpoint) return redirect(localTarget ?? home.href, status);
    const postLogout = new URL(home.href);
    postLogout.pathname = home.pathname.replace(/\/$/, '') + this.cfg.routes.postLogoutRedirect;
    const url = client.buildEndSessionUrl(provider.config, {
      post_logout_redirect_uri: postLogout.href,
      ...(auth?.idToken ? { id_token_hint: auth.idToken } : {}),
    });
    return redirect(url.href, status);
  }

  /** What an anonymous request to a guarded route gets: a login for a browser, 401 for anything else. */
  async unauthenticated(req: HttpRequest, session: SessionPort): Promise<HttpResult> {
    if (wantsHtml(req)) return this.login(req, session, { returnTo: req.originalUrl });
    return json(
      401,
      { error: 'ERR_OIDC_UNAUTHENTICATED', message: 'Authentication required' },
      { 'WWW-Authenticate': `Bearer realm="${this.cfg.origin}"` },
    );
  }

  async fetchUserInfo(auth: AuthenticatedSession): Promise<Record<string, unknown>> {
    const provider = await this.providerClient(auth.provider).get();
    try {
      return await client.fetchUserInfo(provider.config, auth.accessToken, auth.sub);
    } catch (err) {
      throw toIdpError(err, 'userinfo');
    }
  }
}
