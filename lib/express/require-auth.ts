import type { NextFunction, Request, Response } from 'express';
import type { OidcEngine } from '../core/engine.js';
import { OidcError } from '../core/errors.js';
import type { BearerGuardOptions } from '../core/bearer/index.js';
import type { StepUpRequirement } from '../core/step-up.js';
import { toHttpRequest, writeResult } from './http-bridge.js';
import type { OidcRequestContext } from './request-context.js';
import { expressSessionPort } from './session-port.js';

export interface RequireAuthOptions extends StepUpRequirement {
  /** Refresh an expired access token before the handler runs. Default: the `oidc()` option `autoRefresh`. */
  autoRefresh?: boolean;
  /** Step-up: the login must carry one of these `acr` values (space separated); otherwise log in again asking for them. */
  acrValues?: string;
  /** Step-up: the login must be at most this many seconds old; otherwise log in again with `max_age`. */
  maxAge?: number;
  /** Also accept an access token (`Authorization: Bearer|DPoP`), verified like `requireBearer()`; `true`: audience = clientId. */
  bearer?: BearerGuardOptions | true;
}

export function contextOf(req: Request): OidcRequestContext {
  const context = req.oidc as OidcRequestContext | undefined;
  if (!context) throw new OidcError('ERR_OIDC_NOT_MOUNTED', 'Guards need the oidc() middleware mounted first: app.use(auth)');
  return context;
}

/**
 * The shared body of requireAuth() and every guard. Resolves true when the request may go on; otherwise
 * it has already answered (login redirect for browsers, 401 for the rest).
 */
export async function ensureAuthenticated(engine: OidcEngine, req: Request, res: Response, options: RequireAuthOptions): Promise<boolean> {
  const context = contextOf(req);
  const autoRefresh = options.autoRefresh ?? engine.cfg.autoRefresh;
  let auth = context.current();
  const session = expressSessionPort(req, engine.cfg.sessionKey);
  if (auth) {
    try {
      auth = await engine.guard(session, auth, autoRefresh, req);
      context.adopt(auth);
      const stepUp = engine.stepUp(auth, options);
      if (!stepUp) return true;
      writeResult(res, await engine.unauthenticated(toHttpRequest(req), session, { authorizationParams: stepUp, provider: auth.provider }));
      return false;
    } catch (err) {
      if (!(err instanceof OidcError && err.code === 'ERR_OIDC_REFRESH_FAILED')) throw err;
    }
  }
  writeResult(res, await engine.unauthenticated(toHttpRequest(req), session));
  return false;
}

/** True when nothing async is needed: logged in, no refresh due, no step-up requirement. */
export function passesFast(engine: OidcEngine, req: Request, options: RequireAuthOptions): boolean {
  const auth = (req.oidc as OidcRequestContext | undefined)?.current();
  if (!auth || options.acrValues || options.maxAge !== undefined) return false;
  const autoRefresh = options.autoRefresh ?? engine.cfg.autoRefresh;
  return !(autoRefresh && auth.refreshToken && auth.expiresAt !== undefined && auth.expiresAt <= engine.cfg.clock() / 1000);
}

/** Pages behind a login must not be served from a cache (shared, or the back button after logout). */
export function privateNext(res: Response, next: NextFunction): void {
  if (!res.headersSent) res.setHeader('Cache-Control', 'no-store');
  next();
}
