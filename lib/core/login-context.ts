import type { IdTokenClaims } from './config/claims.js';
import type { OidcEngine } from './engine.js';
import { OidcError } from './errors.js';
import { boundAccessToken } from './tokens/bound-token.js';
import type { BoundAccessToken } from './tokens/bound-token.js';
import type { HttpRequest } from './http/messages.js';
import { resourceRequest } from './tokens/resource-tokens.js';
import type { AuthenticatedSession, OidcSessionData, SessionPort } from './session/session-data.js';
import { buildUser } from './session/user.js';
import type { OidcUser } from './session/user.js';
import type { LogoutEverywhereOptions, LogoutEverywhereResult, SessionInfo, SessionStoreAccess } from './logout/user-sessions.js';

/** Options of `getAccessToken()`: another API's token (`resource`, RFC 8707), its scope, and the lifetime it must have left. */
export interface AccessTokenOptions {
  /** Seconds the token must still be valid. Default 60. */
  minTtl?: number;
  /** An API's resource indicator (RFC 8707): a token for that audience instead of the login's own. */
  resource?: string;
  /** With `resource`: the scope to ask for (a subset of what the login was granted). */
  scope?: string;
}

/**
 * The login of the current request, framework-free: Express exposes it as `req.oidc`, Koa as
 * `ctx.state.oidc`. Each adapter says how to reach its session. Reads the session lazily and costs
 * nothing until used; the user object is built once per request.
 */
export abstract class LoginContext<User extends OidcUser = OidcUser> {
  /** @internal */
  readonly engine: OidcEngine;
  /** Tokens refreshed during this request (by it, or by the flight of another request it waited for). */
  private refreshed: AuthenticatedSession | undefined;
  /** The access token the refresh replaced: while the request's session copy still holds it, `refreshed` wins. */
  private replacedToken: string | undefined;
  private staleError: OidcError | undefined;
  private builtFor: AuthenticatedSession | undefined;
  private builtUser: User | undefined;
  /** The stored login last checked by engine.currentLogin(), and the verdict: checked once per request. */
  private checked: AuthenticatedSession | undefined;
  private verdict: AuthenticatedSession | undefined;

  constructor(engine: OidcEngine) {
    this.engine = engine;
  }

  /** Our data in the request's session, without I/O (undefined when there is no session). */
  protected abstract readSession(): OidcSessionData | undefined;
  /** The session as a SessionPort, for refreshes (throws when the session middleware is missing). */
  protected abstract sessionPort(): SessionPort;
  /** The framework's own request (Express `req`, Koa `ctx`), handed to the hooks. */
  abstract get appRequest(): unknown;
  /** The framework's session store, for the user's other sessions. */
  protected abstract storeAccess(): SessionStoreAccess;
  protected abstract httpRequest(): HttpRequest;

  private get auth(): AuthenticatedSession | undefined {
    const data = this.readSession();
    const candidate = data?.auth;
    if (candidate === undefined) return undefined;
    // The guard, req.user and the app's own reads each ask; the lifetime and issuer checks run once per
    // stored login object (a login, refresh or regenerate stores a new one and is checked again).
    if (candidate !== this.checked) {
      this.checked = candidate;
      this.verdict = this.engine.currentLogin(data);
    }
    const stored = this.verdict;
    // Compared by access token, not refresh token: an IdP that does not rotate keeps the refresh token.
    return stored && this.refreshed && stored.accessToken === this.replacedToken && stored.sub === this.refreshed.sub
      ? this.refreshed
      : stored;
  }

  /** @internal Used by requireAuth() after a refresh. */
  adopt(auth: AuthenticatedSession): void {
    const stored = this.engine.currentLogin(this.readSession());
    if (stored && stored.accessToken !== auth.accessToken) {
      this.refreshed = auth;
      this.replacedToken = stored.accessToken;
    }
  }

  /** @internal requireAuth() let the request through with its current tokens: the IdP could not refresh them. */
  markStale(err: OidcError): void {
    this.staleError = err;
  }

  /**
   * Set when the automatic refresh of an expired access token failed because the IdP could not answer
   * (unreachable, 5xx, too slow: ERR_OIDC_TOKEN_REQUEST_FAILED / ERR_OIDC_IDP_TIMEOUT). The login is still
   * valid and the request went on, but `accessToken` is the expired one; `getAccessToken()` throws this
   * error (or a newer one) until the IdP answers again. Undefined otherwise.
   */
  get refreshError(): OidcError | undefined {
    return this.staleError;
  }

  /** @internal The login as the guards see it. */
  current(): AuthenticatedSession | undefined {
    return this.auth;
  }

  /** @internal The session port of this request. */
  session(): SessionPort {
    return this.sessionPort();
  }

  /** @internal The scope asked for at login, for when the token response did not name the granted scope. */
  get requestedScope(): string | undefined {
    const auth = this.auth;
    return auth ? this.engine.cfg.providers.find((p) => p.id === auth.provider)?.scope : undefined;
  }

  /** True when the session holds a login (within its absolute lifetime) for one of this instance's IdPs. */
  isAuthenticated(): boolean {
    return this.auth !== undefined;
  }

  /**
   * ID token claims (protocol claims removed) merged with userinfo, or the user `onLogin` returned;
   * undefined when logged out.
   */
  get user(): User | undefined {
    const auth = this.auth;
    if (!auth) return undefined;
    if (auth !== this.builtFor) {
      this.builtFor = auth;
      this.builtUser = (auth.user ?? this.engine.claims.user(auth.idToken, auth.userinfo)) as User;
    }
    return this.builtUser;
  }

  /** All claims of the (verified) ID token, protocol claims included. */
  get idTokenClaims(): IdTokenClaims | undefined {
    const auth = this.auth;
    return auth ? (this.engine.claims.get(auth.idToken) as IdTokenClaims) : undefined;
  }

  /** The raw ID token (for `id_token_hint`, or to hand to a backend); undefined when logged out. */
  get idToken(): string | undefined {
    return this.auth?.idToken;
  }

  /** The access token as stored, possibly expired: prefer `getAccessToken()`, which refreshes it. */
  get accessToken(): string | undefined {
    return this.auth?.accessToken;
  }

  /** The refresh token, when the IdP issued one (scope `offline_access` at most IdPs). */
  get refreshToken(): string | undefined {
    return this.auth?.refreshToken;
  }

  /** Access token expiry, epoch seconds. */
  get expiresAt(): number | undefined {
    return this.auth?.expiresAt;
  }

  /** The provider id of this login (`default` with a single IdP). */
  get provider(): string | undefined {
    return this.auth?.provider;
  }

  /**
   * An access token valid for at least `minTtl` more seconds (default 60), refreshed first when needed.
   * Concurrent calls for one session share one refresh. With `resource` (RFC 8707): a token for that
   * API, obtained with the refresh token (`resource` and `scope` on the refresh request) and cached in the
   * session per resource with its own expiry.
   */
  async getAccessToken(options: AccessTokenOptions = {}): Promise<string> {
    return (await this.token(options, 'getAccessToken()')).accessToken;
  }

  /**
   * getAccessToken()'s token with what a call to an API needs: the scheme (`DPoP` when the IdP bound the
   * token, with the `dpop` option) and `headers(method, url)` / `fetch(url, init)` that add a fresh proof.
   */
  async getBoundAccessToken(options: AccessTokenOptions = {}): Promise<BoundAccessToken> {
    const { accessToken, tokenType, auth } = await this.token(options, 'getBoundAccessToken()');
    return boundAccessToken(this.engine.dpop, auth.dpopKey, accessToken, tokenType);
  }

  private async token(options: AccessTokenOptions, caller: string): Promise<{ accessToken: string; tokenType: string | undefined; auth: AuthenticatedSession }> {
    const auth = this.auth;
    if (!auth) throw new OidcError('ERR_OIDC_UNAUTHENTICATED', 'Not logged in');
    if (options.resource !== undefined) {
      const result = await this.engine.resourceToken(this.sessionPort(), auth, resourceRequest(options, caller));
      if (result.auth !== auth) this.adopt(result.auth);
      return { accessToken: result.token.accessToken, tokenType: result.token.tokenType, auth: result.auth };
    }
    if (options.scope !== undefined) {
      throw new OidcError('ERR_OIDC_INVALID_CONFIG', `${caller}: "scope" needs "resource" (the login's own token keeps the scope of the login)`);
    }
    const fresh = await this.engine.freshLogin(this.sessionPort(), auth, options.minTtl ?? 60, this.appRequest);
    this.adopt(fresh);
    return { accessToken: fresh.accessToken, tokenType: fresh.tokenType, auth: fresh };
  }

  /** Calls the IdP's userinfo endpoint now with the session's access token. */
  async fetchUserInfo(): Promise<Record<string, unknown> | undefined> {
    const auth = this.auth;
    return auth ? this.engine.fetchUserInfo(auth) : undefined;
  }

  /** The logged-in user's sessions on this app (this one marked `current`), newest first; [] when logged out. */
  async listSessions(): Promise<SessionInfo[]> {
    const auth = this.auth;
    if (!auth) return [];
    return this.engine.sessions.list(this.storeAccess(), { sub: auth.sub, iss: auth.iss }, this.sessionPort().id());
  }

  /**
   * Ends every session of the logged-in user on this app (all instances, with a shared store and the
   * Redis session index), this one included, calling `onLogout` for each. With `idpLogout: true` the
   * result carries the IdP's end-session URL: redirect the browser there. Refused from another site.
   */
  logoutEverywhere(options: LogoutEverywhereOptions = {}): Promise<LogoutEverywhereResult> {
    return this.engine.sessions.logoutEverywhere(this.storeAccess(), this.httpRequest(), this.sessionPort(), this.appRequest, options);
  }
}
