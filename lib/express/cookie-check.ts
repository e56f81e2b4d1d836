import type { Request } from 'express';
import { OidcError } from '../core/errors.js';

interface SessionCookie {
  secure?: unknown;
}

/**
 * express-session leaves a Secure cookie out of the response when `req.secure` is false (its `issecure`
 * check), silently: /login would redirect without Set-Cookie and the callback fail for lack of the
 * pending login. Behind a TLS-terminating proxy `req.secure` is only true with `trust proxy`.
 */
export function assertCookieDeliverable(req: Request): void {
  const cookie = (req.session as unknown as { cookie?: SessionCookie } | undefined)?.cookie;
  if (cookie?.secure !== true || req.secure) return;
  const forwarded = (req.get('x-forwarded-proto') ?? '').split(',')[0]?.trim().toLowerCase();
  const message = forwarded === 'https'
    ? 'The session cookie is Secure and this request came through a proxy over https (X-Forwarded-Proto: https), but ' +
      'Express does not trust the proxy, so req.secure is false and express-session will not send the cookie: the ' +
      'login could never complete. Fix: app.set("trust proxy", 1) (the number of proxies in front of the app).'
    : 'The session cookie is Secure but this request is plain http, so express-session will not send the cookie: the ' +
      'login could never complete. Fix: serve the app over https, or behind a TLS proxy set app.set("trust proxy", 1); ' +
      'for http development use cookie: { secure: "auto" } (or false).';
  throw new OidcError('ERR_OIDC_INSECURE_COOKIE', message);
}
