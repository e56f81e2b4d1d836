import type { Request, Response } from 'express';
import { appLoginOverrides } from '../core/login/app-login.js';
import type { LoginOptions, LogoutOptions } from '../core/login/app-login.js';
import type { OidcEngine } from '../core/engine.js';
import { toHttpRequest, writeResult } from './http-bridge.js';
import { expressSessionPort } from './session-port.js';
import type { OidcResponseActions } from './types.js';

/** `res.oidc`: start a login or a logout from any route. Made on the first read of `res.oidc` in a request. */
export class ResponseActions implements OidcResponseActions {
  private readonly engine: OidcEngine;
  private readonly req: Request;
  private readonly res: Response;

  constructor(engine: OidcEngine, req: Request, res: Response) {
    this.engine = engine;
    this.req = req;
    this.res = res;
  }

  async login(options: LoginOptions = {}): Promise<void> {
    const overrides = appLoginOverrides(options, 'res.oidc.login()');
    const result = await this.engine.login(toHttpRequest(this.req), expressSessionPort(this.req, this.engine.cfg.sessionKey), overrides);
    writeResult(this.res, result);
  }

  async logout(options: LogoutOptions = {}): Promise<void> {
    const session = expressSessionPort(this.req, this.engine.cfg.sessionKey);
    writeResult(this.res, await this.engine.logout(toHttpRequest(this.req), session, this.req, this.req.oidc.user, options));
  }
}
