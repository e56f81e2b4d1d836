import type { Request, Response } from 'express';
import { appLoginOverrides } from '../core/app-login.js';
import type { LoginOptions, LogoutOptions } from '../core/app-login.js';
import type { OidcEngine } from '../core/engine.js';
import { toHttpRequest, writeResult } from './http-bridge.js';
import { expressSessionPort } from './session-port.js';

/** `res.oidc`: start a login or a logout from any route. Made when read, from `req.oidc`. */
class ResponseActions {
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
    const user = this.req.oidc?.user as Record<string, unknown> | undefined;
    writeResult(this.res, await this.engine.logout(toHttpRequest(this.req), session, this.req, user, options));
  }
}

/** Another middleware (passport, a test) assigning the property gets an ordinary property of its own. */
function ownValue(target: object, name: string, value: unknown): void {
  Object.defineProperty(target, name, { configurable: true, enumerable: true, writable: true, value });
}

const USER: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request): unknown {
    return this.oidc?.user;
  },
  set(this: Request, value: unknown): void {
    ownValue(this, 'user', value);
  },
};

const RESPONSE_ACTIONS: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Response): ResponseActions | undefined {
    const req = this.req as Request | undefined;
    const context = req?.oidc;
    return context ? new ResponseActions(context.engine, req, this) : undefined;
  },
  set(this: Response, value: unknown): void {
    ownValue(this, 'oidc', value);
  },
};

/**
 * Defines the accessor on every Express app's own request (or response) prototype from `proto` up to the
 * outermost app: `app.request` and `app.response` hold `app` as an own property, Express's shared base
 * prototypes do not. A mounted sub-app's prototypes inherit from its parent's (Express's `mount`
 * handler), so installing from the app where `oidc()` runs up to the top covers its sub-apps, its parents
 * and their other sub-apps. False when `proto` is no app's (the caller then defines it per object).
 */
function installOn(proto: object | null, name: string, descriptor: PropertyDescriptor): boolean {
  let covered = false;
  for (let p = proto; p !== null && Object.hasOwn(p, 'app'); p = Object.getPrototypeOf(p) as object | null) {
    covered = true;
    if (Object.getOwnPropertyDescriptor(p, name)?.get !== descriptor.get) Object.defineProperty(p, name, descriptor);
  }
  return covered;
}

/**
 * `req.user` and `res.oidc` as lazy accessors on the app's request and response prototypes, Express's own
 * extension point: a request then costs no property definition and no object for them. (An accessor
 * defined on each request object costs a runtime call per request; one with a closure per request gave
 * every request a hidden class of its own: BENCHMARKS.md.) The returned function installs them when it
 * meets an app's prototypes for the first time; for every other request it is a prototype comparison.
 */
export function prototypeAccessors(): (req: Request, res: Response) => void {
  let requestProto: object | null = null;
  let responseProto: object | null = null;
  return (req, res) => {
    const reqProto = Object.getPrototypeOf(req) as object | null;
    if (reqProto !== requestProto) {
      if (installOn(reqProto, 'user', USER)) requestProto = reqProto;
      else Object.defineProperty(req, 'user', USER);
    }
    const resProto = Object.getPrototypeOf(res) as object | null;
    if (resProto !== responseProto) {
      if (installOn(resProto, 'oidc', RESPONSE_ACTIONS)) responseProto = resProto;
      else Object.defineProperty(res, 'oidc', RESPONSE_ACTIONS);
    }
  };
}
