import type { Request } from 'express';
import type { JWTPayload } from 'jose';
import type { OidcEngine } from '../core/engine.js';
import { OidcError } from '../core/errors.js';
import type { AuthenticatedSession } from '../core/session-data.js';
import { buildUser } from '../core/user.js';
import type { OidcUser } from '../core/user.js';
import { expressSessionPort, readSessionData } from './session-port.js';

/** `req.oidc`: the login of the current request. Reads the session lazily; costs nothing until used. */
export class OidcRequestContext<User extends OidcUser = OidcUser> {
  /** @internal */
  readonly engine: OidcEngine;
  private readonly req: Request;
  /** Tokens refreshed during this request by another request's flight (the store already has them). */
  private refreshed: AuthenticatedSession | undefined;

  constructor(engine: OidcEngine, req: Request) {
    this.engine = engine;
    this.req = req;
  }

  private get auth(): AuthenticatedSession | undefined {
    const stored = this.engine.authenticated(readSessionData(this.req, this.engine.cfg.sessionKey));
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

  isAuthenticated(): boolean {
    return this.auth !== undefined;
  }

  /** ID token claims (protocol claims removed) merged with userinfo; undefined when logged out. */
  get user(): User | undefined {
    const auth = this.auth;
    if (!auth) return undefined;
    return (auth.user ?? buildUser(this.engine.claims.get(auth.idToken), auth.userinfo)) as User;
  }

  /** @internal The scope asked for at login, for when the token response did not name the granted scope. */
  get requestedScope(): string | undefined {
    const auth = this.auth;
    return auth ? this.engine.cfg.providers.find((p) => p.id === auth.provider)?.scope : undefined;
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
    const session = expressSessionPort(this.req, this.engine.cfg.sessionKey);
    const fresh = await this.engine.freshLogin(session, auth, options.minTtl ?? 60, this.req);
    this.adopt(fresh);
    return fresh.accessToken;
  }

  /** Calls the IdP's userinfo endpoint now with the session's access token. */
  async fetchUserInfo(): Promise<Record<string, unknown> | undefined> {
    const auth = this.auth;
    return auth ? this.engine.fetchUserInfo(auth) : undefined;
  }
}
