import type { Context } from 'koa';
import type { OidcEngine } from '../core/engine.js';
import { OidcError } from '../core/errors.js';
import { GUARDED_CACHE_CONTROL } from '../core/http/messages.js';
import { guardRequest, passesAtOnce } from '../core/guards/require-auth.js';
import type { RequireAuthOptions } from '../core/guards/require-auth.js';
import { rethrowWithHeaders } from './error-headers.js';
import { toHttpRequest, writeResult } from './http-bridge.js';
import { OidcState } from './state.js';

export function contextOf(ctx: Context): OidcState {
  const context: unknown = ctx.state.oidc;
  if (!(context instanceof OidcState)) {
    throw new OidcError('ERR_OIDC_NOT_MOUNTED', 'requireAuth() and the guards need the oidc() middleware mounted first: app.use(auth)');
  }
  return context;
}

/**
 * The shared body of requireAuth() and every guard. True when the request may go on; otherwise it has
 * already answered (login redirect for browsers, 401 for the rest).
 */
export async function ensureAuthenticated(engine: OidcEngine, ctx: Context, options: RequireAuthOptions): Promise<boolean> {
  const context = contextOf(ctx);
  if (passesAtOnce(engine, context, options)) return true;
  const answer = await guardRequest(engine, context, toHttpRequest(ctx), options).catch((err: unknown) => rethrowWithHeaders(ctx, err));
  if (answer) writeResult(ctx, answer);
  return answer === undefined;
}

/** Pages behind a login must not be served from a cache (shared, or the back button after logout). */
export function markPrivate(ctx: Context): void {
  if (!ctx.headerSent) ctx.set('Cache-Control', GUARDED_CACHE_CONTROL);
}
