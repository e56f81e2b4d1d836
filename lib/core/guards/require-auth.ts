import type { BearerGuardOptions } from '../bearer/index.js';
import type { OidcEngine } from '../engine.js';
import { OidcError } from '../errors.js';
import { json, wantsHtml } from '../http/messages.js';
import type { HttpRequest, HttpResult } from '../http/messages.js';
import type { LoginContext } from '../login-context.js';
import type { LoginOverrides } from '../login/start-login.js';
import type { AuthenticatedSession, SessionPort } from '../session/session-data.js';
import { isIdpFailure } from '../tokens/refresh.js';
import { stepUpChallenge, stepUpParams } from './step-up.js';
import type { StepUpRequirement } from './step-up.js';

/** Options of `requireAuth()` (Express `auth.requireAuth(options)`, Koa likewise). */
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

/**
 * requireAuth() without any I/O: true when the request is logged in, no refresh is due and no step-up
 * requirement applies. Most guarded requests end here, so adapters call this before anything async.
 */
export function passesAtOnce(engine: OidcEngine, context: LoginContext | undefined, options: RequireAuthOptions): boolean {
  const auth = context?.current();
  if (!auth || options.acrValues || options.maxAge !== undefined) return false;
  const autoRefresh = options.autoRefresh ?? engine.cfg.autoRefresh;
  return !(autoRefresh && auth.refreshToken && auth.expiresAt !== undefined && auth.expiresAt <= engine.cfg.clock() / 1000);
}

/** Step-up parameters when the login does not satisfy `requirement` (acr / max age). */
function stepUpFor(engine: OidcEngine, auth: AuthenticatedSession, requirement: StepUpRequirement): Record<string, string> | undefined {
  if (!requirement.acrValues && requirement.maxAge === undefined) return undefined;
  return stepUpParams(engine.claims.get(auth.idToken) as Record<string, unknown>, requirement, engine.cfg.clock() / 1000);
}

/**
 * The login refreshed when due. When the IdP cannot answer, the login stays valid: the request goes on
 * with the current tokens and the context is marked stale with the IdP's error.
 */
async function refreshed(engine: OidcEngine, context: LoginContext, auth: AuthenticatedSession): Promise<AuthenticatedSession> {
  try {
    return await engine.freshLogin(context.session(), auth, 0, context.appRequest);
  } catch (err) {
    if (!isIdpFailure(err)) throw err;
    context.markStale(err);
    return auth;
  }
}

/** What a request that may not pass gets: a login for a browser, 401 (with a step-up challenge when asked) for anything else. */
async function refuse(engine: OidcEngine, req: HttpRequest, session: SessionPort, overrides: LoginOverrides = {}): Promise<HttpResult> {
  if (wantsHtml(req)) return engine.login(req, session, { returnTo: req.originalUrl, ...overrides, fromPage: true });
  const { origin } = engine.cfg;
  const stepUp = overrides.authorizationParams;
  if (stepUp && (stepUp.acr_values || stepUp.max_age)) {
    return json(401, { error: 'ERR_OIDC_STEP_UP_REQUIRED', message: 'A stronger or more recent login is required' }, {
      'WWW-Authenticate': stepUpChallenge(origin, stepUp),
    });
  }
  return json(401, { error: 'ERR_OIDC_UNAUTHENTICATED', message: 'Authentication required' }, { 'WWW-Authenticate': `Bearer realm="${origin}"` });
}

/**
 * The shared body of requireAuth() and every guard, framework-free: `undefined` when the request may go
 * on (tokens refreshed when due, step-up satisfied), otherwise the answer for the adapter to write (a
 * login for browsers, 401 for the rest). A refresh the IdP rejects ends the login and gets that answer;
 * when the IdP cannot answer, the request goes on with its current tokens and `refreshError` set.
 */
export async function guardRequest(engine: OidcEngine, context: LoginContext, request: HttpRequest, options: RequireAuthOptions): Promise<HttpResult | undefined> {
  const autoRefresh = options.autoRefresh ?? engine.cfg.autoRefresh;
  let auth = context.current();
  const session = context.session();
  if (auth) {
    try {
      if (autoRefresh && auth.refreshToken) auth = await refreshed(engine, context, auth);
      context.adopt(auth);
      const stepUp = stepUpFor(engine, auth, options);
      if (!stepUp) return undefined;
      return await refuse(engine, request, session, { authorizationParams: stepUp, provider: auth.provider });
    } catch (err) {
      if (!(err instanceof OidcError && err.code === 'ERR_OIDC_REFRESH_FAILED')) throw err;
    }
  }
  return refuse(engine, request, session);
}
