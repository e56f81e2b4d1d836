import type { Context } from 'koa';
import type { OidcEngine } from '../core/engine.js';
import { assertCookieDeliverable as assertDeliverable, warnAboutCookie } from '../core/session/cookie-check.js';
import type { CookieDeliveryWords, CookieFixes } from '../core/session/cookie-check.js';

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

const KOA_WORDS: CookieDeliveryWords = {
  framework: 'Koa',
  secureFlag: 'ctx.secure',
  notSent: 'the cookie cannot be sent',
  trustProxy: 'app.proxy = true',
  trustProxyExplained: 'app.proxy = true',
  httpDevelopment: "leave koa-session's secure unset (it then follows the connection)",
};

/**
 * koa-session with `secure: true` on a request Koa sees as http makes the cookies module throw "Cannot
 * send secure cookie over unencrypted connection" after the response was built; the core refuses first.
 */
export function assertCookieDeliverable(ctx: Context): void {
  const options = (ctx as unknown as { sessionOptions?: CookieOptions }).sessionOptions;
  assertDeliverable({ secureCookie: options?.secure === true, secureRequest: ctx.secure, forwardedProto: ctx.get('x-forwarded-proto') }, KOA_WORDS);
}
