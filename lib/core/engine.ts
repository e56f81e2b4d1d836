import * as client from 'openid-client';
import { handleBackchannelLogout } from './logout/backchannel-logout.js';
import type { DestroySession } from './logout/backchannel-logout.js';
import { handleCallback } from './login/handle-callback.js';
import { startLogin } from './login/start-login.js';
import type { LoginOverrides } from './login/start-login.js';
import { handleLogout } from './logout/handle-logout.js';
import type { LogoutOverrides } from './logout/handle-logout.js';
import { resolveConfig } from './config/resolve-config.js';
import type { ResolvedConfig } from './config/resolved-config.js';
import { OidcError } from './errors.js';
import { pathOf, wantsHtml } from './http/messages.js';
import type { HttpRequest, HttpResult } from './http/messages.js';
import type { OidcOptions } from './config/options.js';
import { ProviderClient } from './idp/provider-client.js';
import type { DiscoverProvider } from './idp/provider-client.js';
import { TokenRefresher } from './tokens/refresh.js';
import { DpopKeys } from './tokens/dpop-keys.js';
import type { DpopFor } from './tokens/dpop-keys.js';
import { ResourceTokens } from './tokens/resource-tokens.js';
import type { ResourceRequest, ResourceResult } from './tokens/resource-tokens.js';
import { tokenSet } from './session/session-data.js';
import type { AuthenticatedSession, OidcSessionData, SessionPort } from './session/session-data.js';
import { toIdpError } from './idp/upstream-error.js';
import { ClaimsCache } from './session/user.js';
import type { OidcUser } from './session/user.js';
import type { IdTokenClaims } from './config/claims.js';
import { UserSessions } from './logout/user-sessions.js';

export type { DestroySession } from './logout/backchannel-logout.js';
export type { LoginOverrides } from './login/start-login.js';
export type { LogoutOverrides } from './logout/handle-logout.js';
export type RouteName = 'login' | 'callback' | 'logout' | 'backchannelLogout';
export interface RouteMatch {
  name: RouteName;
  provider: string;
}

function withoutTrailingSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
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
  /** The discovered IdP of a provider id, for the use cases (lazy, single flight per provider). */
  private readonly discovered: DiscoverProvider = (id) => this.providerClient(id).get();
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
  currentLogin(data: OidcSessionData | undefined): AuthenticatedSession | undefined {
    const auth = data?.auth;
    if (!auth) return undefined;
    const nowSec = this.cfg.clock() / 1000;
    if (nowSec >= auth.authenticatedAt + this.cfg.absoluteDurationSec) return undefined;
    // A login made for another IdP (configuration changed, or another app sharing the store) is not ours.
    const issuer = this.issuers.get(auth.provider);
    if (issuer === undefined || withoutTrailingSlash(auth.iss) !== issuer) return undefined;
    return auth;
  }

  login(req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
    return startLogin(this.cfg, this.discovered, req, session, overrides);
  }

  /** A browser visitor's one `prompt=none` attempt, when enabled; undefined when it does not apply. */
  async silentLogin(req: HttpRequest, session: SessionPort): Promise<HttpResult | undefined> {
    if (!this.cfg.attemptSilentLogin || !wantsHtml(req)) return undefined;
    const data = session.read();
    if (data?.silentTried || data?.loggedOut || this.currentLogin(data)) return undefined;
    return this.login(req, session, { returnTo: req.originalUrl, authorizationParams: { prompt: 'none' }, silent: true, fromPage: true });
  }

  /**
   * `rawParams`: the query string (GET) or the urlencoded body (POST, response_mode=form_post).
   * `routeProvider`: the provider whose callback route received it (mix-up defence).
   */
  callback(req: HttpRequest, session: SessionPort, rawParams: string, routeProvider: string, appReq?: unknown): Promise<HttpResult> {
    return handleCallback(this.cfg, { discovered: this.discovered, dpop: this.dpop }, { req, session, rawParams, routeProvider, appReq });
  }

  logout(req: HttpRequest, session: SessionPort, appReq?: unknown, user?: OidcUser, overrides: LogoutOverrides = {}): Promise<HttpResult> {
    return handleLogout(this.cfg, this.discovered, { req, session, appReq, user }, overrides);
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
