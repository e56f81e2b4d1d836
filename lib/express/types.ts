import type {} from 'express-session';
import type { LoginOptions, LogoutOptions } from '../core/login/app-login.js';
import type { AuthInfo } from '../core/bearer/index.js';
import type { OidcSessionData } from '../core/session/session-data.js';
import type { OidcUser } from '../core/session/user.js';
import type { OidcRequestContext } from './request-context.js';

/** `res.oidc`: start a login or a logout from any route. */
export interface OidcResponseActions {
  /** Answers with the redirect to the IdP (a sign-up button with `prompt: 'create'`, a "switch account" link...). */
  login(options?: LoginOptions): Promise<void>;
  /** What the logout route does, from your own route: e.g. one button for local and one for IdP logout. */
  logout(options?: LogoutOptions): Promise<void>;
}

declare module 'express-session' {
  interface SessionData {
    oidc?: OidcSessionData;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /**
     * The type of `req.user`. Declare your own claims on `OidcUser` (`declare module 'oidc-session'`),
     * which this interface extends; augmenting `Express.User` itself also works (passport style).
     */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends OidcUser {}
    interface Request {
      /** The logged-in user (ID token claims + userinfo, or what `onLogin` returned); undefined when logged out. */
      user?: User | undefined;
      /**
       * Set by the `oidc()` middleware on every request it sees. On a route it does not run before, reading
       * it throws ERR_OIDC_NOT_MOUNTED.
       */
      oidc: OidcRequestContext<User>;
      /** The verified access token, set by `requireBearer()` and by `requireAuth({ bearer })` for token requests. */
      auth?: AuthInfo | undefined;
    }
    interface Response {
      /** Set by the `oidc()` middleware; reading it on a route it does not run before throws ERR_OIDC_NOT_MOUNTED. */
      oidc: OidcResponseActions;
    }
  }
}

export {};
