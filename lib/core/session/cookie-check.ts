import type { Logger } from '../config/options.js';

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
