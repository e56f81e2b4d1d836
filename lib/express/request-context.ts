import type { Request } from 'express';
import type { OidcEngine } from '../core/engine.js';
import { LoginContext } from '../core/login-context.js';
import type { OidcSessionData, SessionPort } from '../core/session/session-data.js';
import type { OidcUser } from '../core/session/user.js';
import { expressSessionPort, readSessionData } from './session-port.js';

/** `req.oidc`: the login of the current request (the core's LoginContext over express-session). */
export class OidcRequestContext<User extends OidcUser = OidcUser> extends LoginContext<User> {
  private readonly req: Request;

  constructor(engine: OidcEngine, req: Request) {
    super(engine);
    this.req = req;
  }

  protected readSession(): OidcSessionData | undefined {
    return readSessionData(this.req, this.engine.cfg.sessionKey);
  }

  protected sessionPort(): SessionPort {
    return expressSessionPort(this.req, this.engine.cfg.sessionKey);
  }

  get appRequest(): Request {
    return this.req;
  }

}
