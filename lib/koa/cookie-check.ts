import type { Context } from 'koa';
import type { OidcEngine } from '../core/engine.js';
import { OidcError } from '../core/errors.js';
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

/**
 * koa-session with `secure: true` on a request Koa sees as http makes the cookies module throw "Cannot
 * send secure cookie over unencrypted connection" after the response was built; say what to change
 * before a login is started instead. Behind a TLS proxy `ctx.secure` is only true with `app.proxy = true`.
 */
export function assertCookieDeliverable(ctx: Context): void {
  const options = (ctx as unknown as { sessionOptions?: CookieOptions }).sessionOptions;
  if (options?.secure !== true || ctx.secure) return;
  const forwarded = (ctx.get('x-forwarded-proto') ?? '').split(',')[0]?.trim().toLowerCase();
  const message = forwarded === 'https'
    ? 'The session cookie is Secure and this request came through a proxy over https (X-Forwarded-Proto: https), but ' +
      'Koa does not trust the proxy, so ctx.secure is false and the cookie cannot be sent: the login could never ' +
      'complete. Fix: app.proxy = true.'
    : 'The session cookie is Secure but this request is plain http, so the cookie cannot be sent: the login could ' +
      'never complete. Fix: serve the app over https, or behind a TLS proxy set app.proxy = true; for http ' +
      'development leave koa-session\'s secure unset (it then follows the connection).';
  throw new OidcError('ERR_OIDC_INSECURE_COOKIE', message);
}
