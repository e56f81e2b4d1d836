import type { JWTPayload } from 'jose';
import type { OidcEngine } from './engine.js';
import { OidcError } from './errors.js';
import type { AuthenticatedSession, OidcSessionData, SessionPort } from './session-data.js';
import type { OidcUser } from './user.js';

/**
 * The login of the current request, framework-free: Express exposes it as `req.oidc`, Koa as
 * `ctx.state.oidc`. Each adapter says how to reach its session. Reads the session lazily and costs
 * nothing until used; the user object is built once per request.
 */
export abstract class LoginContext<User extends OidcUser = OidcUser> {
  /** @internal */
  readonly engine: OidcEngine;
  /** Tokens refreshed during this request by another request's flight (the store already has them). */
  private refreshed: AuthenticatedSession | undefined;
  private builtFor: AuthenticatedSession | undefined;
  private builtUser: User | undefined;
  /** The stored login last checked by engine.authenticated(), and the verdict: checked once per request. */
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

  private get auth(): AuthenticatedSession | undefined {
    const data = this.readSession();
    const candidate = data?.auth;
    if (candidate === undefined) return undefined;
    // The guard, req.user and the app's own reads each ask; the lifetime and issuer checks run once per
    // stored login object (a login, refresh or regenerate stores a new one and is checked again).
    if (candidate !== this.checked) {
      this.checked = candidate;
      this.verdict = this.engine.authenticated(data);
    }
    const stored = this.verdict;
    return stored && this.refreshed && stored.refreshToken !== this.refreshed.refreshToken && stored.sub === this.refreshed.sub
      ? this.refreshed
      : stored;
  }

  /** @internal Used by requireAuth() after a refresh. */
  adopt(auth: AuthenticatedSession): void {
    this.refreshed = auth;
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
  get idTokenClaims(): JWTPayload | undefined {
    const auth = this.auth;
    return auth ? this.engine.claims.get(auth.idToken) : undefined;
  }

  get idToken(): string | undefined {
    return this.auth?.idToken;
  }

  get accessToken(): string | undefined {
    return this.auth?.accessToken;
  }

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
   * Concurrent calls for one session share one refresh.
   */
  async getAccessToken(options: { minTtl?: number } = {}): Promise<string> {
    const auth = this.auth;
    if (!auth) throw new OidcError('ERR_OIDC_UNAUTHENTICATED', 'Not logged in');
    const fresh = await this.engine.freshLogin(this.sessionPort(), auth, options.minTtl ?? 60, this.appRequest);
    this.adopt(fresh);
    return fresh.accessToken;
  }

  /** Calls the IdP's userinfo endpoint now with the session's access token. */
  async fetchUserInfo(): Promise<Record<string, unknown> | undefined> {
    const auth = this.auth;
    return auth ? this.engine.fetchUserInfo(auth) : undefined;
  }
}
