import type { Logger } from '../config/options.js';
import { OidcError } from '../errors.js';

/** The session cookie's settings as the adapter read them from its session middleware. */
export interface SessionCookieSettings {
  /** Whether the cookie will carry `Secure` on this deployment (the adapter resolves "auto"/unset). */
  secure: boolean;
  sameSite: unknown;
  httpOnly: unknown;
}

/** How to fix each finding in the framework's own words. */
export interface CookieFixes {
  secure: string;
  sameSite: string;
}

/**
 * One look at the session cookie, so an insecure production setup is noticed: not Secure behind an https
 * baseUrl, no SameSite, or readable by scripts. Warns only; the app decides.
 */
export function warnAboutCookie(baseUrl: URL, logger: Logger, cookie: SessionCookieSettings, fixes: CookieFixes): void {
  if (baseUrl.protocol === 'https:' && !cookie.secure) {
    logger.warn(`oidc-session: the session cookie is not Secure although baseUrl is https; ${fixes.secure}`);
  }
  if (cookie.sameSite === undefined || cookie.sameSite === false) {
    logger.warn(`oidc-session: the session cookie has no SameSite attribute; ${fixes.sameSite}`);
  }
  if (cookie.httpOnly === false) logger.warn('oidc-session: the session cookie is readable by scripts (httpOnly false)');
}

/** How one framework names what the insecure-cookie refusal talks about. */
export interface CookieDeliveryWords {
  /** e.g. 'Express' */
  framework: string;
  /** The flag that says the request came over https, e.g. 'req.secure'. */
  secureFlag: string;
  /** What happens to the cookie, e.g. 'express-session will not send the cookie'. */
  notSent: string;
  /** How to trust the proxy, e.g. 'app.set("trust proxy", 1)'. */
  trustProxy: string;
  /** The same with a word on its value, for the proxied case. */
  trustProxyExplained: string;
  /** What to do for http development. */
  httpDevelopment: string;
}

/**
 * A Secure session cookie on a request the framework sees as plain http never reaches the browser, so the
 * login could only fail at the callback: refuse before a login is started, naming the fix. Behind a TLS
 * proxy the framework sees https only when told to trust the proxy.
 */
export function assertCookieDeliverable(
  request: { secureCookie: boolean; secureRequest: boolean; forwardedProto: string | undefined },
  words: CookieDeliveryWords,
): void {
  if (!request.secureCookie || request.secureRequest) return;
  const forwarded = (request.forwardedProto ?? '').split(',')[0]?.trim().toLowerCase();
  const message = forwarded === 'https'
    ? 'The session cookie is Secure and this request came through a proxy over https (X-Forwarded-Proto: https), but ' +
      `${words.framework} does not trust the proxy, so ${words.secureFlag} is false and ${words.notSent}: the login could ` +
      `never complete. Fix: ${words.trustProxyExplained}.`
    : `The session cookie is Secure but this request is plain http, so ${words.notSent}: the login could never ` +
      `complete. Fix: serve the app over https, or behind a TLS proxy set ${words.trustProxy}; for http development ` +
      `${words.httpDevelopment}.`;
  throw new OidcError('ERR_OIDC_INSECURE_COOKIE', message);
}
