import type { OidcEngine } from './engine.js';
import { OidcError } from './errors.js';
import type { HttpRequest, HttpResult } from './http.js';
import type { LoginContext } from './login-context.js';

/**
 * requireAuth() without any I/O: true when the request is logged in and no refresh is due. Most guarded
 * requests end here, so adapters call this synchronously before anything async.
 */
export function passesAsIs(engine: OidcEngine, context: LoginContext, autoRefresh: boolean): boolean {
  const auth = context.current();
  if (!auth) return false;
  const refreshDue = autoRefresh && Boolean(auth.refreshToken) && auth.expiresAt !== undefined && auth.expiresAt <= engine.cfg.clock() / 1000;
  return !refreshDue;
}

/**
 * requireAuth()'s slow path: refresh the due access token (the request then passes: `undefined`), or the
 * anonymous answer for the adapter to write (a login redirect for browsers, 401 for anything else). A
 * refresh the IdP rejects ends the login and gets the anonymous answer; other IdP failures are thrown.
 */
export async function guardRequest(engine: OidcEngine, context: LoginContext, request: HttpRequest, autoRefresh: boolean): Promise<HttpResult | undefined> {
  const auth = context.current();
  const session = context.session();
  if (auth) {
    try {
      context.adopt(await engine.guard(session, auth, autoRefresh));
      return undefined;
    } catch (err) {
      if (!(err instanceof OidcError && err.code === 'ERR_OIDC_REFRESH_FAILED')) throw err;
    }
  }
  return engine.unauthenticated(request, session);
}
