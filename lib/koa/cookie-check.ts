import type { Context } from 'koa';
import type { OidcEngine } from '../core/engine.js';

interface CookieOptions {
  secure?: boolean;
  sameSite?: string | boolean;
  httpOnly?: boolean;
}

/**
 * One look at koa-session's cookie settings, so an insecure production setup is noticed. koa-session
 * leaves `secure` unset by default and then follows the connection, which behind a TLS-terminating proxy
 * is plain http unless `app.proxy = true`.
 */
export function warnAboutCookie(engine: OidcEngine, ctx: Context): void {
  const options = (ctx as unknown as { sessionOptions?: CookieOptions }).sessionOptions;
  if (!options) return;
  const { logger } = engine.cfg;
  if (engine.cfg.baseUrl.protocol === 'https:' && (options.secure === false || (options.secure === undefined && !ctx.secure))) {
    logger.warn('oidc-session: the session cookie is not Secure although baseUrl is https; set secure: true in koa-session (and app.proxy = true behind a proxy)');
  }
  if (options.sameSite === undefined || options.sameSite === false) {
    logger.warn('oidc-session: the session cookie has no SameSite attribute; set sameSite: "lax" in koa-session');
  }
  if (options.httpOnly === false) logger.warn('oidc-session: the session cookie is readable by scripts (httpOnly false)');
}
