import type { Context } from 'koa';
import type { OidcEngine } from '../core/engine.js';
import { LoginContext } from '../core/login-context.js';
import type { SessionPort } from '../core/session-data.js';
import type { OidcUser } from '../core/user.js';
import { readSessionData } from './session-port.js';

/** `ctx.state.oidc`: the login of the current request (the core's LoginContext over koa-session). */
export class OidcState<User extends OidcUser = OidcUser> extends LoginContext<User> {
  constructor(engine: OidcEngine, ctx: Context, port: SessionPort) {
    const key = engine.cfg.sessionKey;
    super(engine, { read: () => readSessionData(ctx, key), port: () => port });
  }
}

/**
 * What `oidc()` puts in `ctx.state`. Type your app with it instead of augmenting Koa's global
 * DefaultState: `new Koa<OidcKoaState>()`, `new Router<OidcKoaState>()`; with your own claims,
 * `OidcKoaState<MyUser>`.
 */
export interface OidcKoaState<User extends OidcUser = OidcUser> {
  /** The logged-in user (ID token claims + userinfo); undefined when logged out. */
  user?: User | undefined;
  /** Set by the `oidc()` middleware on every request. */
  oidc?: OidcState<User>;
}
