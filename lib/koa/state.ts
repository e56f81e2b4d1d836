import type { Context } from 'koa';
import { appLoginOverrides } from '../core/login/app-login.js';
import type { LoginOptions, LogoutOptions } from '../core/login/app-login.js';
import type { OidcEngine } from '../core/engine.js';
import { LoginContext } from '../core/login-context.js';
import type { AuthenticatedSession, OidcSessionData, SessionPort } from '../core/session/session-data.js';
import type { OidcUser } from '../core/session/user.js';
import { toHttpRequest, writeResult } from './http-bridge.js';
import type { HttpRequest } from '../core/http/messages.js';
import type { SessionStoreAccess } from '../core/logout/user-sessions.js';
import { readSessionData, sessionStoreOf } from './session-port.js';
import { koaStoreAccess } from './store-access.js';

/**
 * `ctx.state.oidc`: the login of the current request (the core's LoginContext over koa-session), plus
 * `login()` and `logout()`, which Express offers as `res.oidc.login()` / `res.oidc.logout()` (Koa has
 * one context for both).
 */
export class OidcState<User extends OidcUser = OidcUser> extends LoginContext<User> {
  private readonly ctx: Context;
  private readonly port: SessionPort;

  /** @internal Made by the middleware for each request. */
  constructor(engine: OidcEngine, ctx: Context, port: SessionPort) {
    super(engine);
    this.ctx = ctx;
    this.port = port;
  }

  protected readSession(): OidcSessionData | undefined {
    return readSessionData(this.ctx, this.engine.cfg.sessionKey);
  }

  protected sessionPort(): SessionPort {
    return this.port;
  }

  get appRequest(): Context {
    return this.ctx;
  }

  protected storeAccess(): SessionStoreAccess {
    const maxAge = (this.ctx as unknown as { sessionOptions?: { maxAge?: number | 'session' } }).sessionOptions?.maxAge;
    return koaStoreAccess(sessionStoreOf(this.ctx), this.engine.cfg.sessionKey, maxAge, this.ctx);
  }

  protected httpRequest(): HttpRequest {
    return toHttpRequest(this.ctx);
  }

  /** After a refresh within this request, `ctx.state.user` follows the new ID token's claims. */
  override adopt(auth: AuthenticatedSession): void {
    super.adopt(auth);
    this.ctx.state.user = this.user;
  }

  /** Starts a login from any route (a sign-up button with `prompt: 'create'`...): answers with the redirect. */
  async login(options: LoginOptions = {}): Promise<void> {
    const overrides = appLoginOverrides(options, 'ctx.state.oidc.login()');
    writeResult(this.ctx, await this.engine.login(toHttpRequest(this.ctx), this.port, overrides));
  }

  /**
   * What the logout route does, from your own route (e.g. one button for local and one for IdP logout):
   * the same cross-site check, session destruction, revocation and redirect.
   */
  async logout(options: LogoutOptions = {}): Promise<void> {
    writeResult(this.ctx, await this.engine.logout(toHttpRequest(this.ctx), this.port, this.ctx, this.user, options));
  }
}

/**
 * What `oidc()` puts in `ctx.state`. Type your app with it instead of augmenting Koa's global
 * DefaultState: `new Koa<OidcKoaState>()`, `new Router<OidcKoaState>()`. Your own claims come from
 * augmenting {@link OidcUser}; `OidcKoaState<MyUser>` narrows one app further.
 */
export interface OidcKoaState<User extends OidcUser = OidcUser> {
  /** The logged-in user (ID token claims + userinfo, or what `onLogin` returned); undefined when logged out. */
  user?: User | undefined;
  /**
   * Set by the `oidc()` middleware on every request it sees (Koa creates `ctx.state` per request, so on
   * a route the middleware does not run before it is undefined; the guards then throw ERR_OIDC_NOT_MOUNTED).
   */
  oidc: OidcState<User>;
}
