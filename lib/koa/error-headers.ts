import type { Context } from 'koa';
import { OidcError } from '../core/errors.js';

/**
 * Puts an error's headers on the response, then rethrows it. Koa's own handler sends `err.headers` anyway,
 * but an app's try/catch error middleware that sets only status and body would lose the RFC 6750 challenge
 * and `Cache-Control: no-store`; headers set on `ctx` survive it.
 */
export function rethrowWithHeaders(ctx: Context, err: unknown): never {
  if (err instanceof OidcError && err.headers && !ctx.headerSent) ctx.set(err.headers);
  throw err;
}
