import type { Context, Middleware, Next } from 'koa';
import { carriesAccessToken, createBearerVerifier, engineBearerVerifier } from '../core/bearer/index.js';
import type { AuthInfo, BearerGuardOptions, BearerOptions, BearerRequest, BearerVerifier } from '../core/bearer/index.js';
import type { OidcEngine } from '../core/engine.js';
import { GUARDED_CACHE_CONTROL, headerReader } from '../core/http/messages.js';

export type { AuthInfo, BearerGuardOptions, BearerOptions, DpopOptions, IntrospectionOptions } from '../core/bearer/index.js';
export { checkScopes, claimsDenied, isAuthInfo } from '../core/bearer/index.js';

/** What `requireBearer()` puts in `ctx.state`: `new Koa<BearerKoaState>()` or combine it with your state type. */
export interface BearerKoaState {
  /** The verified access token. */
  auth?: AuthInfo | undefined;
}

/** The request as the verifier sees it. `ctx.origin` honours `app.proxy` for the scheme (DPoP `htu`). */
function toBearerRequest(ctx: Context): BearerRequest {
  return {
    method: ctx.method,
    header: headerReader(ctx.headers),
    url: () => `${ctx.protocol}://${ctx.get('host')}${ctx.originalUrl}`,
  };
}

async function verify(verifier: BearerVerifier, ctx: Context): Promise<void> {
  (ctx.state as BearerKoaState).auth = await verifier.authenticate(toBearerRequest(ctx));
}

/**
 * Resource-server guard for Koa: the request must carry a valid access token (`Authorization: Bearer …`,
 * or `DPoP …` with its proof when `dpop` is set). Sets `ctx.state.auth`. Failures are thrown as OidcError
 * with `status` 401 / 403 and `headers` holding the RFC 6750 WWW-Authenticate challenge, which Koa's
 * default error handler sends as they are; never a redirect.
 */
export function requireBearer(options: BearerOptions): Middleware<BearerKoaState> {
  const verifier = createBearerVerifier(options);
  return async (ctx, next) => {
    await verify(verifier, ctx as unknown as Context);
    await next();
  };
}

/**
 * The bearer half of a Koa `requireAuth({ bearer })`: undefined without the option; otherwise a function
 * that takes over (resolving true once the token passed and `next` ran, throwing when it did not) when
 * the request carries `Authorization: Bearer|DPoP`, and answers false at once when it does not, so the
 * session check can run. A bad token never falls back to the session.
 */
export function koaBearerBranch(
  engine: OidcEngine,
  option: BearerGuardOptions | true | undefined,
): ((ctx: Context, next: Next) => Promise<boolean>) | undefined {
  if (option === undefined) return undefined;
  const verifier = engineBearerVerifier(engine, option);
  return async (ctx, next) => {
    if (!carriesAccessToken(ctx.get('authorization') || undefined)) return false;
    await verify(verifier, ctx);
    ctx.set('Cache-Control', GUARDED_CACHE_CONTROL);
    await next();
    return true;
  };
}
