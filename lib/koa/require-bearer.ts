import type { Context, Middleware, Next } from 'koa';
import { carriesAccessToken, createBearerVerifier, engineBearerVerifier } from '../core/bearer/index.js';
import type { AuthInfo, BearerGuardOptions, BearerOptions, BearerRequest, BearerVerifier } from '../core/bearer/index.js';
import type { OidcEngine } from '../core/engine.js';
import { GUARDED_CACHE_CONTROL, headerReader } from '../core/http/messages.js';
import { rethrowWithHeaders } from './error-headers.js';

export type { AuthInfo, BearerGuardOptions, BearerOptions, DpopOptions, IntrospectionOptions } from '../core/bearer/index.js';
export { checkScopes, claimsDenied, isAuthInfo } from '../core/bearer/index.js';

/** What `requireBearer()` puts in `ctx.state`: `new Koa<BearerKoaState>()` or combine it with your state type. */
export interface BearerKoaState {
  /** The verified access token. */
  auth?: AuthInfo | undefined;
}

/** The request as the verifier sees it. No host: DPoP `htu` is checked against the configured public URL. */
function toBearerRequest(ctx: Context): BearerRequest {
  return {
    method: ctx.method,
    header: headerReader(ctx.headers),
    path: () => ctx.originalUrl,
  };
}

async function verify(verifier: BearerVerifier, ctx: Context): Promise<void> {
  try {
    (ctx.state as BearerKoaState).auth = await verifier.authenticate(toBearerRequest(ctx));
  } catch (err) {
    rethrowWithHeaders(ctx, err);
  }
}

/**
 * Resource-server guard for Koa: the request must carry a valid access token (`Authorization: Bearer …`,
 * or `DPoP …` with its proof when `dpop` is set). Sets `ctx.state.auth`. Failures are thrown as OidcError
 * with `status` 401 / 403 and `headers` holding the RFC 6750 WWW-Authenticate challenge, which Koa's
 * default error handler sends as they are, and which are set on `ctx` too, for a try/catch error
 * middleware that ignores `err.headers`; never a redirect.
 */
export function requireBearer(options: BearerOptions): Middleware<BearerKoaState> {
  const verifier = createBearerVerifier(options);
  return async (ctx, next) => {
    await verify(verifier, ctx as unknown as Context);
    // An answer computed for one token's holder is nobody else's: never stored by a cache.
    ctx.set('Cache-Control', 'no-store');
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
