import type { Request } from 'express';
import type { JWTPayload } from 'jose';
import type { OidcEngine } from '../core/engine.js';
import type { AuthenticatedSession } from '../core/session-data.js';
import { buildUser } from '../core/user.js';
import type { OidcUser } from '../core/user.js';
import { readSessionData } from './session-port.js';

/** `req.oidc`: the login of the current request. Reads the session lazily; costs nothing until used. */
export class OidcRequestContext<User extends OidcUser = OidcUser> {
  private readonly engine: OidcEngine;
  private readonly req: Request;

  constructor(engine: OidcEngine, req: Request) {
    this.engine = engine;
    this.req = req;
  }

  private get auth(): AuthenticatedSession | undefined {
    return this.engine.authenticated(readSessionData(this.req, this.engine.cfg.sessionKey));
  }

  isAuthenticated(): boolean {
    return this.auth !== undefined;
  }

  /** ID token claims (protocol claims removed) merged with userinfo; undefined when logged out. */
  get user(): User | undefined {
    const auth = this.auth;
    return auth ? (buildUser(this.engine.claims.get(auth.idToken), auth.userinfo) as User) : undefined;
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

  /** Calls the IdP's userinfo endpoint now with the session's access token. */
  async fetchUserInfo(): Promise<Record<string, unknown> | undefined> {
    const auth = this.auth;
    return auth ? this.engine.fetchUserInfo(auth) : undefined;
  }
}
