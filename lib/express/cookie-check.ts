import type { Request } from 'express';
import { assertCookieDeliverable as assertDeliverable } from '../core/session/cookie-check.js';
import type { CookieDeliveryWords } from '../core/session/cookie-check.js';

interface SessionCookie {
  secure?: unknown;
}

const EXPRESS_WORDS: CookieDeliveryWords = {
  framework: 'Express',
  secureFlag: 'req.secure',
  notSent: 'express-session will not send the cookie',
  trustProxy: 'app.set("trust proxy", 1)',
  trustProxyExplained: 'app.set("trust proxy", 1) (the number of proxies in front of the app)',
  httpDevelopment: 'use cookie: { secure: "auto" } (or false)',
};

/**
 * express-session leaves a Secure cookie out of the response when `req.secure` is false (its `issecure`
 * check), silently: /login would redirect without Set-Cookie and the callback fail for lack of the
 * pending login.
 */
export function assertCookieDeliverable(req: Request): void {
  const cookie = (req.session as unknown as { cookie?: SessionCookie } | undefined)?.cookie;
  assertDeliverable({ secureCookie: cookie?.secure === true, secureRequest: req.secure, forwardedProto: req.get('x-forwarded-proto') }, EXPRESS_WORDS);
}
