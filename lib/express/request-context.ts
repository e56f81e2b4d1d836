import type { Request, Response } from 'express';
import type { OidcEngine } from '../core/engine.js';
import { LoginContext } from '../core/login-context.js';
import { OidcError } from '../core/errors.js';
import type { HttpRequest } from '../core/http/messages.js';
import type { OidcSessionData, SessionPort } from '../core/session/session-data.js';
import type { SessionStoreAccess } from '../core/logout/user-sessions.js';
import { toHttpRequest } from './http-bridge.js';
import { expressStoreAccess, storeOfRequest } from './store-access.js';
import type { OidcUser } from '../core/session/user.js';
import { expressSessionPort, readSessionData } from './session-port.js';
import { ResponseActions } from './response-actions.js';

/** `req.oidc`: the login of the current request (the core's LoginContext over express-session). */
export class OidcRequestContext<User extends OidcUser = OidcUser> extends LoginContext<User> {
  private readonly req: Request;
  private actions: ResponseActions | undefined;

  /** @internal Made by the middleware for each request. */
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

  protected storeAccess(): SessionStoreAccess {
    const store = storeOfRequest(this.req);
    if (!store) throw new OidcError('ERR_OIDC_NO_SESSION', 'req.sessionStore is missing: mount express-session before oidc()');
    return expressStoreAccess(store, this.engine.cfg.sessionKey);
  }

  protected httpRequest(): HttpRequest {
    return toHttpRequest(this.req);
  }

  /**
   * @internal `res.oidc` of this request, made on its first read: a request that never reads it costs no
   * object (the class comes from the library copy that made this context).
   */
  responseActions(res: Response): ResponseActions {
    this.actions ??= new ResponseActions(this.engine, this.req, res);
    return this.actions;
  }
}
