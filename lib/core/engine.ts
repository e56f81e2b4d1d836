import * as client from 'openid-client';
import { replayKey, verifyLogoutToken } from './backchannel.js';
import { completeCallback, parseCallbackParams } from './callback.js';
import { resolveConfig } from './config.js';
import type { ResolvedConfig } from './config.js';
import { OidcError } from './errors.js';
import { isCrossSite, json, pathOf, rawQuery, redirect, wantsHtml } from './http.js';
import type { HttpRequest, HttpResult } from './http.js';
import { allowedLoginParams, createLoginRequest } from './login.js';
import { endSessionUrl, revokeTokens } from './logout.js';
import type { OidcOptions } from './options.js';
import { ProviderClient } from './provider-client.js';
import { TokenRefresher } from './refresh.js';
import { safeReturnTo } from './return-to.js';
import type { AuthenticatedSession, OidcSessionData, SessionPort } from './session-data.js';
import { pruneTransactions, takeTransaction, withTransaction } from './transactions.js';
import { toIdpError } from './upstream-error.js';
import { ClaimsCache } from './user.js';

export type RouteName = 'login' | 'callback' | 'logout' | 'backchannelLogout';

export interface LoginOverrides {
  returnTo?: string;
  authorizationParams?: Record<string, string>;
}

/** Destroys a session in the store by id (back-channel logout reaches sessions that sent no cookie). */
export type DestroySession = (sessionId: string) => Promise<void>;

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
  private readonly refresher: TokenRefresher;

  constructor(options: OidcOptions) {
    this.cfg = resolveConfig(options);
    this.providers = new Map(this.cfg.providers.map((p) => [p.id, new ProviderClient(this.cfg, p)]));
    const { routes } = this.cfg;
    this.routeTable = new Map<string, RouteName>([[routes.login, 'login'], [routes.logout, 'logout']]);
    if (this.cfg.backchannelLogout) this.routeTable.set(routes.backchannelLogout, 'backchannelLogout');
    for (const p of this.cfg.providers) this.routeTable.set(p.callbackPath, 'callback');
    this.refresher = new TokenRefresher(this.cfg, (id) => this.providerClient(id), this.cfg.lock, this.claims);
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
      const kept = this.keptAppData(session, data?.auth, auth);
      const pending = pruneTransactions(rest, nowSec, this.cfg.transactionTtlSec, this.cfg.maxTransactions);
      await session.regenerate();
      await this.cfg.sessionIndex.add(auth, session.id(), this.cfg.absoluteDurationSec);
      session.writeAppData(kept);
      session.write({ ...(Object.keys(pending).length ? { transactions: pending } : {}), auth });
      await session.save();
      this.cfg.logger.info('oidc-session: login', { sub: auth.sub, iss: auth.iss });
      return redirect(tx.returnTo, req.method === 'POST' ? 303 : 302);
    } catch (err) {
      const error = err instanceof OidcError ? err : toIdpError(err, 'token');
      this.cfg.logger.warn('oidc-session: login failed', { code: error.code, cause: (error.cause as { code?: string } | undefined)?.code });
      await session.save().catch(() => undefined);
      throw error;
    }
  }

  /** App data carried over the regenerate: only when asked for, and never into another user's login. */
  private keptAppData(session: SessionPort, previous: AuthenticatedSession | undefined, next: AuthenticatedSession): Record<string, unknown> {
    const keep = this.cfg.keepSessionData;
    if (keep === false) return {};
    if (previous && (previous.sub !== next.sub || previous.iss !== next.iss)) return {};
    const data = session.readAppData();
    if (keep === true) return data;
    return Object.fromEntries(keep.filter((key) => key in data).map((key) => [key, data[key]]));
  }

  async logout(req: HttpRequest, session: SessionPort): Promise<HttpResult> {
    if (isCrossSite(req, this.cfg.origin)) {
      throw new OidcError('ERR_OIDC_CROSS_SITE_REQUEST', 'Logout must be started from this site');
    }
    const auth = session.read()?.auth;
    const sessionId = session.id();
    await session.destroy();
    const status = req.method === 'POST' ? 303 : 302;
    const localTarget = safeReturnTo(new URLSearchParams(rawQuery(req.url)).get('returnTo'), this.cfg.origin) ?? this.cfg.baseUrl.href;
    if (auth) {
      await this.cfg.sessionIndex.remove(auth, sessionId).catch((err: unknown) => {
        this.cfg.logger.warn('oidc-session: session index removal failed', { code: (err as { code?: string }).code });
      });
    }
    if (!auth && !this.cfg.idpLogout) return redirect(localTarget, status);
    const provider = await this.providerClient(auth?.provider).get();
    if (auth && this.cfg.revokeTokens) await revokeTokens(this.cfg, provider, auth);
    const idpTarget = this.cfg.idpLogout ? endSessionUrl(this.cfg, provider, auth) : undefined;
    this.cfg.logger.info('oidc-session: logout', { sub: auth?.sub, idp: idpTarget !== undefined });
    return redirect(idpTarget?.href ?? localTarget, status);
  }

  /** What an anonymous request to a guarded route gets: a login for a browser, 401 for anything else. */
  async unauthenticated(req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
    if (wantsHtml(req)) return this.login(req, session, { returnTo: req.originalUrl, ...overrides });
    return json(
      401,
      { error: 'ERR_OIDC_UNAUTHENTICATED', message: 'Authentication required' },
      { 'WWW-Authenticate': `Bearer realm="${this.cfg.origin}"` },
    );
  }

  /**
   * The session's login with an access token valid for at least `minTtlSec` more seconds, refreshing it
   * (single flight) when needed. A rejected refresh ends the login and throws ERR_OIDC_REFRESH_FAILED.
   */
  async freshLogin(session: SessionPort, auth: AuthenticatedSession, minTtlSec: number): Promise<AuthenticatedSession> {
    if (!this.refresher.isDue(auth, minTtlSec)) return auth;
    try {
      return await this.refresher.refresh(session, auth);
    } catch (err) {
      if (err instanceof OidcError && err.code === 'ERR_OIDC_REFRESH_FAILED') await this.endLogin(session, auth);
      throw err;
    }
  }

  /** requireAuth's view: refresh automatically when enabled and possible. */
  async guard(session: SessionPort, auth: AuthenticatedSession, autoRefresh: boolean): Promise<AuthenticatedSession> {
    if (!autoRefresh || !auth.refreshToken) return auth;
    return this.freshLogin(session, auth, 0);
  }

  private async endLogin(session: SessionPort, auth: AuthenticatedSession): Promise<void> {
    const stored = await session.readStored().catch(() => undefined);
    if (stored === null) {
      // Logged out elsewhere meanwhile: start from a clean session rather than saving this stale copy back.
      await session.regenerate().catch(() => undefined);
    } else {
      const { auth: _ended, ...rest } = session.read() ?? {};
      session.write(rest);
      await session.save().catch(() => undefined);
    }
    await this.cfg.sessionIndex.remove(auth, session.id()).catch(() => undefined);
    this.cfg.logger.info('oidc-session: login ended by a failed refresh', { sub: auth.sub });
  }

  async fetchUserInfo(auth: AuthenticatedSession): Promise<Record<string, unknown>> {
    const provider = await this.providerClient(auth.provider).get();
    try {
      return await client.fetchUserInfo(provider.config, auth.accessToken, auth.sub);
    } catch (err) {
      throw toIdpError(err, 'userinfo');
    }
  }

  /** POST /backchannel-logout with the urlencoded body: destroys the sessions the logout token names. */
  async backchannelLogout(req: HttpRequest, body: string, destroySession: DestroySession): Promise<HttpResult> {
    const noStore = { 'Cache-Control': 'no-store' };
    try {
      if (req.method !== 'POST') throw new OidcError('ERR_OIDC_METHOD_NOT_ALLOWED', 'Back-channel logout accepts POST only');
      const tokens = new URLSearchParams(body).getAll('logout_token');
      if (tokens.length !== 1 || !tokens[0]) throw new OidcError('ERR_OIDC_INVALID_LOGOUT_TOKEN', 'Expected exactly one logout_token');
      const provider = await this.providerClient().get();
      const claims = await verifyLogoutToken(this.cfg, provider, tokens[0]);
      if (!(await this.cfg.lock.acquire(replayKey(claims), claims.replayWindowSec * 1000))) {
        throw new OidcError('ERR_OIDC_INVALID_LOGOUT_TOKEN', 'This logout token was already used (jti replay)');
      }
      const query = claims.sid ? { iss: claims.iss, sid: claims.sid } : { iss: claims.iss, ...(claims.sub ? { sub: claims.sub } : {}) };
      const ids = await this.cfg.sessionIndex.find(query);
      for (const id of ids) {
        await destroySession(id);
        await this.cfg.sessionIndex.remove(query, id);
      }
      this.cfg.logger.info('oidc-session: back-channel logout', { sessions: ids.length });
      return { status: 200, headers: noStore, body: '' };
    } catch (err) {
      const error = err instanceof OidcError ? err : toIdpError(err, 'jwks');
      this.cfg.logger.warn('oidc-session: back-channel logout rejected', { code: error.code });
      if (error.status === 405) return json(405, { error: 'invalid_request', error_description: error.message }, { Allow: 'POST' });
      return json(400, { error: 'invalid_request', error_description: error.message }, noStore);
    }
  }
}
