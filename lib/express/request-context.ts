import type { Request } from 'express';
import type { OidcEngine } from '../core/engine.js';
import { LoginContext } from '../core/login-context.js';
import type { AuthenticatedSession } from '../core/session-data.js';
import type { OidcUser } from '../core/user.js';
import { expressSessionPort, readSessionData } from './session-port.js';

/** `req.oidc`: the login of the current request (the core's LoginContext over express-session). */
export class OidcRequestContext<User extends OidcUser = OidcUser> extends LoginContext<User> {
  private readonly req: Request;

  constructor(engine: OidcEngine, req: Request) {
    const key = engine.cfg.sessionKey;
    super(engine, { read: () => readSessionData(req, key), port: () => expressSessionPort(req, key), appRequest: req });
    this.req = req;
  }

  /** After a refresh within this request, `req.user` follows the new ID token's claims. */
  override adopt(auth: AuthenticatedSession): void {
    super.adopt(auth);
    this.req.user = this.user as Express.User | undefined;
  }
}
