import * as client from 'openid-client';
import { handleBackchannelLogout } from './backchannel-route.js';
import type { DestroySession } from './backchannel-route.js';
import { withCallbackClaim } from './callback-claim.js';
import { completeCallback, parseCallbackParams } from './callback.js';
import { resolveConfig } from './config.js';
import { DpopKeys } from './dpop-keys.js';
import type { DpopFor } from './dpop-keys.js';
import type { ResolvedConfig } from './config.js';
import { OidcError } from './errors.js';
import { RESUBMIT_MARKER, resubmitPage } from './form-post-resubmit.js';
import { isCrossSite, json, pathOf, rawQuery, redirect, wantsHtml } from './http.js';
import type { HttpRequest, HttpResult } from './http.js';
import { allowedLoginParams, createLoginRequest } from './login.js';
import { endSessionUrl, revokeInBackground } from './logout.js';
import type { OidcOptions, TokenSet } from './options.js';
import { ProviderClient } from './provider-client.js';
import { isIdpFailure, TokenRefresher } from './refresh.js';
import { ResourceTokens } from './resource-tokens.js';
import type { ResourceRequest, ResourceResult } from './resource-tokens.js';
import { safeReturnTo } from './return-to.js';
import type { AuthenticatedSession, LoginTransaction, OidcSessionData, SessionPort } from './session-data.js';
import { stepUpChallenge, stepUpParams } from './step-up.js';
import type { StepUpRequirement } from './step-up.js';
import { holdsOnlyPendingLogins, pruneTransactions, takeTransaction, withTransaction } from './transactions.js';
import { neverReachedIdp, toIdpError } from './upstream-error.js';
import { loginRetryPage } from './login-retry-page.js';
import { ClaimsCache } from './user.js';
import { UserSessions } from './user-sessions.js';
import type { IdTokenClaims, UserinfoClaims } from './claims.js';
import type { OidcUser } from './user.js';

export type { DestroySession } from './backchannel-route.js';
export type RouteName = 'login' | 'callback' | 'logout' | 'backchannelLogout';
export interface RouteMatch {
  name: RouteName;
  provider: string;
}

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

export interface LogoutOverrides {
  /** Also end the session at the IdP, whatever the `idpLogout` option says. */
  idpLogout?: boolean;
  /** Local path to land on when the IdP is not involved (same rules as `?returnTo=`). */
  returnTo?: string;
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** IdP errors that only mean "not logged in at the IdP" when a silent login was tried. */
const SILENT_LOGIN_ERRORS = new Set(['login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

function tokenSet(auth: AuthenticatedSession): TokenSet {
  return {
    idToken: auth.idToken,
    accessToken: auth.accessToken,
    ...(auth.refreshToken ? { refreshToken: auth.refreshToken } : {}),
    ...(auth.expiresAt !== undefined ? { expiresAt: auth.expiresAt } : {}),
    ...(auth.scope ? { scope: auth.scope } : {}),
    ...(auth.tokenType ? { tokenType: auth.tokenType } : {}),
  };
}

/**
 * A callback without its pending login. A session that holds nothing of ours means the browser did not
 * send the session cookie back (or the store lost it): a different code than a state we do not know.
 */
function missingTransaction(req: HttpRequest, data: OidcSessionData | undefined): OidcError {
  if (data === undefined) {
    const cookies = req.header('cookie') ? 'the session it sent holds no pending login' : 'the request carried no cookies at all';
    return new OidcError(
      'ERR_OIDC_NO_SESSION_COOKIE',
      `The callback arrived without the session of the login (${cookies}). Usual causes: the callback URL's host name ` +
        'differs from the one /login was opened on (127.0.0.1 vs localhost), the cookie\'s domain or path does not cover ' +
        'the callback, SameSite=Strict, a Secure cookie over http (behind a proxy: trust proxy), or the session store lost it.',
    );
  }
  return new OidcError('ERR_OIDC_MISSING_TRANSACTION', 'No pending login matches this callback (unknown, expired or already used "state")');
}

/**
 * The framework-free heart of oidc-session: one instance per `oidc()` call, holding the validated
 * configuration, the lazily discovered providers and the per-instance caches. Adapters translate
 * requests into `HttpRequest` + `SessionPort`, pass their own request object through for hooks
 * (`appReq`), and write back the `HttpResult`.
 */
export class OidcEngine {
  readonly cfg: ResolvedConfig;
  readonly claims = new ClaimsCache();
  /** Every session of a user (session index + store): auth.sessions, logoutEverywhere(). */
  readonly sessions: UserSessions = new UserSessions(this);
  private readonly providers: Map<string, ProviderClient>;
  private readonly routeTable: Map<string, RouteMatch>;
  private readonly refresher: TokenRefresher;
  private readonly resourceTokens: ResourceTokens;
  readonly dpop: DpopKeys;
  private readonly dpopFor: DpopFor | undefined;
  /** Expected `iss` of each provider's logins, without a trailing slash. */
  private readonly issuers: Map<string, string>;

  constructor(options: OidcOptions) {
    this.cfg = resolveConfig(options);
    this.providers = new Map(this.cfg.providers.map((p) => [p.id, new ProviderClient(this.cfg, p)]));
    this.issuers = new Map(this.cfg.providers.map((p) => [p.id, withoutTrailingSlash(p.issuer ?? p.config?.serverMetadata().issuer ?? '')]));
    const { routes } = this.cfg;
    const first = this.cfg.providers[0]?.id ?? 'default';
    this.routeTable = new Map<string, RouteMatch>([
      [routes.login, { name: 'login', provider: first }],
      [routes.logout, { name: 'logout', provider: first }],
    ]);
    for (const p of this.cfg.providers) {
      this.routeTable.set(p.callbackPath, { name: 'callback', provider: p.id });
      if (this.cfg.backchannelLogout) this.routeTable.set(p.backchannelPath, { name: 'backchannelLogout', provider: p.id });
    }
    this.dpop = new DpopKeys(this.cfg.dpop);
    this.dpopFor = this.dpop.forLogins((id) => this.providerClient(id));
    this.refresher = new TokenRefresher(this.cfg, (id) => this.providerClient(id), this.cfg.lock, this.claims, this.dpopFor);
    this.resourceTokens = new ResourceTokens(this.cfg, (id) => this.providerClient(id), this.cfg.lock, this.dpopFor);
  }

  /** Which of our routes a request path is, if any. */
  route(url: string): RouteMatch | undefined {
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
    // A login made for another IdP (configuration changed, or another app sharing the store) is not ours.
    const issuer = this.issuers.get(auth.provider);
    if (issuer === undefined || withoutTrailingSlash(auth.iss) !== issuer) return undefined;
    return auth;
  }

  async login(req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
    session.assertCookieDeliverable?.();
    const query = new URLSearchParams(overrides.fromPage ? '' : rawQuery(req.url));
    const returnTo = safeReturnTo(overrides.returnTo ?? query.get('returnTo'), this.cfg.origin) ?? '/';
    const params = { ...allowedLoginParams(query, this.cfg.loginParams), ...overrides.authorizationParams };
    const providerId = overrides.provider ?? (this.cfg.multiProvider ? (query.get('provider') ?? undefined) : undefined);
    const provider = await this.providerClient(providerId).get();
    const request = await createLoginRequest(this.cfg, provider, { returnTo, params, ...(overrides.silent ? { silent: true } : {}) });
    const nowSec = Math.floor(this.cfg.clock() / 1000);
    const pending = withTransaction(session.read(), request.state, request.transaction, nowSec, this.cfg.transactionTtlSec, this.cfg.maxTransactions);
    const data = overrides.silent ? { ...pending, silentTried: true } : pending;
    session.write(data);
    if (holdsOnlyPendingLogins(data, session.readAppData())) session.expireAfter(this.cfg.transactionTtlSec * 1000);
    await session.save();
    this.cfg.logger.debug('oidc-session: login started, redirecting to the IdP', { provider: provider.settings.id, silent: overrides.silent === true });
    return redirect(request.url.href);
  }

  /** A browser visitor's one `prompt=none` attempt, when enabled; undefined when it does not apply. */
  async silentLogin(req: HttpRequest, session: SessionPort): Promise<HttpResult | undefined> {
    if (!this.cfg.attemptSilentLogin || !wantsHtml(req)) return undefined;
    const data = session.read();
    if (data?.silentTried || data?.loggedOut || this.authenticated(data)) return undefined;
    return this.login(req, session, { returnTo: req.originalUrl, authorizationParams: { prompt: 'none' }, silent: true, fromPage: true });
  }

  /**
   * `rawParams`: the query string (GET) or the urlencoded body (POST, response_mode=form_post).
   * `routeProvider`: the provider whose callback route received it (mix-up defence).
   */
  async callback(req: HttpRequest, session: SessionPort, rawParams: string, routeProvider: string, appReq?: unknown): Promise<HttpResult> {
    const { params, state } = parseCallbackParams(rawParams);
    const resubmitted = params.get(RESUBMIT_MARKER) === '1';
    params.delete(RESUBMIT_MARKER);
    const data = session.read();
    const { tx, rest } = takeTransaction(data, state);
    this.cfg.logger.debug('oidc-session: callback', { method: req.method, pendingLogins: Object.keys(data?.transactions ?? {}).length, matched: tx !== undefined });
    if (!tx) {
      if (req.method === 'POST' && !resubmitted) return resubmitPage(pathOf(req.originalUrl), params);
      throw missingTransaction(req, data);
    }
    return withCallbackClaim(this.cfg.lock, session, state, this.cfg.transactionTtlSec * 1000, async () => {
      session.write({ ...data, transactions: rest });
      const nowSec = Math.floor(this.cfg.clock() / 1000);
      try {
        if (nowSec - tx.createdAt >= this.cfg.transactionTtlSec) {
          throw new OidcError('ERR_OIDC_MISSING_TRANSACTION', 'The pending login for this callback has expired; start again');
        }
        if (tx.provider !== routeProvider) {
          throw new OidcError('ERR_OIDC_INVALID_CALLBACK', 'This callback belongs to another identity provider than the login it answers');
        }
        if (tx.silent && SILENT_LOGIN_ERRORS.has(params.get('error') ?? '')) {
          await session.save();
          return redirect(tx.returnTo, req.method === 'POST' ? 303 : 302);
        }
        const auth = await this.completeLogin(session, params, state, tx, data, rest, nowSec, appReq);
        this.cfg.logger.info('oidc-session: login', { sub: auth.sub, iss: auth.iss, provider: auth.provider });
        return redirect(tx.returnTo, req.method === 'POST' ? 303 : 302);
      } catch (err) {
        const error = err instanceof OidcError ? err : toIdpError(err, 'token');
        this.cfg.logger.warn('oidc-session: login failed', { code: error.code, cause: (error.cause as { code?: string } | undefined)?.code });
        if (neverReachedIdp(error)) {
          // The code never left: keep the pending login so that the same callback can be tried again.
          session.write(data);
          await session.save().catch(() => undefined);
          throw error;
        }
        await session.save().catch(() => undefined);
        // A browser gets a way out; anything else (and the app's error handler) gets the error as before.
        if (isIdpFailure(error) && (req.header('accept') ?? '').includes('text/html')) return loginRetryPage(this.cfg, tx, error);
        throw error;
      }
    });
  }

  private async completeLogin(
    session: SessionPort,
    params: URLSearchParams,
    state: string,
    tx: LoginTransaction,
    previous: OidcSessionData | undefined,
    rest: Record<string, LoginTransaction>,
    nowSec: number,
    appReq: unknown,
  ): Promise<AuthenticatedSession> {
    const provider = await this.providerClient(tx.provider).get();
    const result = await completeCallback(this.cfg, provider, params, state, tx, await this.dpop.forLogin(provider));
    const auth = result.auth;
    if (this.cfg.onLogin) {
      let user: unknown;
      try {
        const claims = result.claims as IdTokenClaims;
        const userinfo = result.userinfo as UserinfoClaims | undefined;
        user = await this.cfg.onLogin({ claims, userinfo, tokens: tokenSet(auth), provider: auth.provider, req: appReq });
      } catch (err) {
        throw err instanceof OidcError ? err : new OidcError('ERR_OIDC_LOGIN_REFUSED', 'The application refused this login', { cause: err });
      }
      if (user === false) throw new OidcError('ERR_OIDC_LOGIN_REFUSED', 'The application refused this login');
      if (typeof user === 'object' && user !== null) auth.user = user as Record<string, unknown>;
    }
    const kept = this.keptAppData(session, previous?.auth, auth);
    const pending = pruneTransactions(rest, nowSec, this.cfg.transactionTtlSec, this.cfg.maxTransactions);
    await session.regenerate();
    await this.cfg.sessionIndex.add(auth, session.id(), this.cfg.absoluteDurationSec);
    session.writeAppData(kept);
    session.write({ ...(Object.keys(pending).length ? { transactions: pending } : {}), ...(previous?.silentTried ? { silentTried: true } : {}), auth });
    await session.save();
    return auth;
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

  async logout(
    req: HttpRequest,
    session: SessionPort,
    appReq?: unknown,
    user?: OidcUser,
    overrides: LogoutOverrides = {},
  ): Promise<HttpResult> {
    if (isCrossSite(req, this.cfg.origin)) {
      throw new OidcError('ERR_OIDC_CROSS_SITE_REQUEST', 'Logout must be started from this site');
    }
    const auth = session.read()?.auth;
    const sessionId = session.id();
    if (auth && this.cfg.attemptSilentLogin) {
      // A destroyed session would look like a first visit, and prompt=none would log the user straight back in.
      await session.regenerate();
      session.write({ loggedOut: true });
      await session.save();
    } else {
      await session.destroy();
    }
    const status = req.method === 'POST' ? 303 : 302;
    const idpLogout = overrides.idpLogout ?? this.cfg.idpLogout;
    const returnTo = overrides.returnTo ?? new URLSearchParams(rawQuery(req.url)).get('returnTo');
    const localTarget = safeReturnTo(returnTo, this.cfg.origin) ?? this.cfg.baseUrl.href;
    if (auth) {
      await this.cfg.sessionIndex.remove(auth, sessionId).catch((err: unknown) => {
        this.cfg.logger.warn('oidc-session: session index removal failed', { code: (err as { code?: string }).code });
      });
    }
    await this.cfg.onLogout?.({ user, provider: auth?.provider, req: appReq });
    const client = this.providerClient(auth?.provider);
    if (auth && this.cfg.revokeTokens) revokeInBackground(this.cfg, client, auth);
    let idpTarget: URL | undefined;
    if (idpLogout) {
      try {
        idpTarget = endSessionUrl(this.cfg, await client.get(), auth);
      } catch (err) {
        // The session is gone already; without the IdP's metadata the user still lands logged out here.
        this.cfg.logger.warn('oidc-session: IdP logout skipped, its metadata could not be read', { code: (err as { code?: string }).code });
      }
    }
    this.cfg.logger.info('oidc-session: logout', { sub: auth?.sub, idp: idpTarget !== undefined });
    return redirect(idpTarget?.href ?? localTarget, status);
  }

  /** What an anonymous request to a guarded route gets: a login for a browser, 401 for anything else. */
  async unauthenticated(req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
    if (wantsHtml(req)) return this.login(req, session, { returnTo: req.originalUrl, ...overrides, fromPage: true });
    const stepUp = overrides.authorizationParams;
    if (stepUp && (stepUp.acr_values || stepUp.max_age)) {
      return json(401, { error: 'ERR_OIDC_STEP_UP_REQUIRED', message: 'A stronger or more recent login is required' }, {
        'WWW-Authenticate': stepUpChallenge(this.cfg.origin, stepUp),
      });
    }
    return json(401, { error: 'ERR_OIDC_UNAUTHENTICATED', message: 'Authentication required' }, { 'WWW-Authenticate': `Bearer realm="${this.cfg.origin}"` });
  }

  /** Step-up parameters when the login does not satisfy `requirement` (acr / max age). */
  stepUp(auth: AuthenticatedSession, requirement: StepUpRequirement): Record<string, string> | undefined {
    if (!requirement.acrValues && requirement.maxAge === undefined) return undefined;
    return stepUpParams(this.claims.get(auth.idToken) as Record<string, unknown>, requirement, this.cfg.clock() / 1000);
  }

  /**
   * The session's login with an access token valid for at least `minTtlSec` more seconds, refreshing it
   * (single flight) when needed. A rejected refresh ends the login and throws ERR_OIDC_REFRESH_FAILED;
   * an IdP that cannot answer (502/504) leaves the login as it is.
   */
  freshLogin(session: SessionPort, auth: AuthenticatedSession, minTtlSec: number, appReq?: unknown): Promise<AuthenticatedSession> {
    const onRefresh = this.cfg.onRefresh;
    const notify = onRefresh
      ? (fresh: AuthenticatedSession) =>
          onRefresh({ claims: { ...this.claims.get(fresh.idToken) } as IdTokenClaims, tokens: tokenSet(fresh), provider: fresh.provider, req: appReq })
      : undefined;
    return this.refresher.fresh(session, auth, minTtlSec, notify);
  }

  /** A token for another API (RFC 8707), cached in the session; a rejected refresh token ends the login. */
  async resourceToken(session: SessionPort, auth: AuthenticatedSession, request: ResourceRequest): Promise<ResourceResult> {
    try {
      return await this.resourceTokens.get(session, auth, request);
    } catch (err) {
      if (err instanceof OidcError && err.code === 'ERR_OIDC_REFRESH_FAILED') await this.refresher.endLogin(session, auth);
      throw err;
    }
  }

  /**
   * requireAuth's view: refresh automatically when enabled and possible. When the IdP cannot answer, the
   * login stays valid: the request goes on with the current tokens and `stale` gets the IdP's error.
   */
  async guard(
    session: SessionPort,
    auth: AuthenticatedSession,
    autoRefresh: boolean,
    appReq?: unknown,
    stale?: (err: OidcError) => void,
  ): Promise<AuthenticatedSession> {
    if (!autoRefresh || !auth.refreshToken) return auth;
    try {
      return await this.freshLogin(session, auth, 0, appReq);
    } catch (err) {
      if (!stale || !isIdpFailure(err)) throw err;
      stale(err);
      return auth;
    }
  }

  async fetchUserInfo(auth: AuthenticatedSession): Promise<Record<string, unknown>> {
    const provider = await this.providerClient(auth.provider).get();
    try {
      const dpop = auth.tokenType?.toLowerCase() === 'dpop' ? await this.dpopFor?.(auth) : undefined;
      return await client.fetchUserInfo(provider.config, auth.accessToken, auth.sub, dpop);
    } catch (err) {
      throw toIdpError(err, 'userinfo');
    }
  }

  /** POST /backchannel-logout with the urlencoded body: destroys the sessions the logout token names. */
  backchannelLogout(req: HttpRequest, body: string, destroySession: DestroySession, providerId?: string): Promise<HttpResult> {
    return handleBackchannelLogout(this.cfg, () => this.providerClient(providerId).get(), req, body, destroySession);
  }
}
