import type { Request, Response } from 'express';
import type { OidcEngine } from '../core/engine.js';
import { OidcError } from '../core/errors.js';
import { GUARDED_CACHE_CONTROL } from '../core/http/messages.js';
import { guardRequest, passesAtOnce as passesLoginAtOnce } from '../core/guards/require-auth.js';
import type { RequireAuthOptions } from '../core/guards/require-auth.js';
import { toHttpRequest, writeResult } from './http-bridge.js';
import { mountedContext } from './not-mounted.js';
import type { OidcRequestContext } from './request-context.js';

export type { RequireAuthOptions } from '../core/guards/require-auth.js';

export function contextOf(req: Request): OidcRequestContext {
  const context = mountedContext(req);
  if (!context) throw new OidcError('ERR_OIDC_NOT_MOUNTED', 'Guards need the oidc() middleware mounted first: app.use(auth) (and res.locals added to, not replaced)');
  return context;
}

/**
 * The shared body of requireAuth() and every guard. Resolves true when the request may go on; otherwise
 * it has already answered (login redirect for browsers, 401 for the rest).
 */
export async function ensureAuthenticated(engine: OidcEngine, req: Request, res: Response, options: RequireAuthOptions): Promise<boolean> {
  const answer = await guardRequest(engine, contextOf(req), toHttpRequest(req), options);
  if (answer) writeResult(res, answer);
  return answer === undefined;
}

/** True when nothing async is needed: logged in, no refresh due, no step-up requirement. */
export function passesAtOnce(engine: OidcEngine, req: Request, options: RequireAuthOptions): boolean {
  return passesLoginAtOnce(engine, mountedContext(req), options);
}

/** Pages behind a login must not be served from a cache (shared, or the back button after logout). */
export function markPrivate(res: Response): void {
  // Node refuses once the headers are out (nothing left to mark then). Not asked first with
  // res.headersSent: one more property lookup on a response object of its own on every guarded request.
  try {
    res.setHeader('Cache-Control', GUARDED_CACHE_CONTROL);
  } catch (err) {
    if ((err as { code?: string }).code !== 'ERR_HTTP_HEADERS_SENT') throw err;
  }
}
