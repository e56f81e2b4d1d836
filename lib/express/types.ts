import type {} from 'express-session';
import type { AuthInfo } from '../core/bearer/index.js';
import type { OidcSessionData } from '../core/session/session-data.js';
import type { OidcUser } from '../core/session/user.js';
import type { OidcRequestContext } from './request-context.js';

declare module 'express-session' {
  interface SessionData {
    oidc?: OidcSessionData;
  }
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    /** Augment this interface to declare your own claims: `interface User { roles?: string[] }`. */
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends OidcUser {}
    interface Request {
      /** The logged-in user (ID token claims + userinfo); undefined when logged out. */
      user?: User | undefined;
      /** Set by the `oidc()` middleware. */
      oidc?: OidcRequestContext<User>;
      /** The verified access token, set by `requireBearer()` and by `requireAuth({ bearer })` for token requests. */
      auth?: AuthInfo | undefined;
    }
  }
}

export {};
