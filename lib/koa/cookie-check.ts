import type { Context } from 'koa';
import type { OidcEngine } from '../core/engine.js';
import { warnAboutCookie } from '../core/session/cookie-check.js';
import type { CookieFixes } from '../core/session/cookie-check.js';

interface CookieOptions {
  secure?: boolean;
  sameSite?: string | boolean;
  httpOnly?: boolean;
}

const COOKIE_FIXES: CookieFixes = {
  secure: 'set secure: true in koa-session (and app.proxy = true behind a proxy)',
  sameSite: 'set sameSite: "lax" in koa-session',
};

/**
 * koa-session's cookie settings, for the core's one look at them. koa-session leaves `secure` unset by
 * default and then follows the connection, which behind a TLS-terminating proxy is plain http unless
 * `app.proxy = true`.
 */
export function checkCookie(engine: OidcEngine, ctx: Context): void {
  const options = (ctx as unknown as { sessionOptions?: CookieOptions }).sessionOptions;
  if (!options) return;
  const secure = options.secure ?? ctx.secure;
  warnAboutCookie(engine.cfg.baseUrl, engine.cfg.logger, { secure, sameSite: options.sameSite, httpOnly: options.httpOnly }, COOKIE_FIXES);
}
