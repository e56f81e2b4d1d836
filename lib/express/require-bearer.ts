import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { carriesAccessToken, createBearerVerifier, engineBearerVerifier } from '../core/bearer/index.js';
import type { AuthInfo, BearerGuardOptions, BearerOptions, BearerRequest, BearerVerifier } from '../core/bearer/index.js';
import type { OidcEngine } from '../core/engine.js';
import { headerReader } from '../core/http/messages.js';
import { failTo } from './error-headers.js';
import { markPrivate } from './require-auth.js';
import './types.js';

export type { AuthInfo, BearerGuardOptions, BearerOptions, DpopOptions, IntrospectionOptions } from '../core/bearer/index.js';

/** The request as the verifier sees it. No host: DPoP `htu` is checked against the configured public URL. */
function toBearerRequest(req: Request): BearerRequest {
  return {
    method: req.method,
    header: headerReader(req.headers),
    path: () => req.originalUrl ?? req.url,
  };
}

/** An answer computed for one token's holder is nobody else's: never stored by a cache. */
function privateNext(res: Response, next: NextFunction): void {
  markPrivate(res);
  next();
}

function verify(verifier: BearerVerifier, req: Request, res: Response, next: NextFunction, then: () => void = next): void {
  verifier.authenticate(toBearerRequest(req)).then((auth) => {
    req.auth = auth;
    then();
  }, failTo(res, next));
}

/**
 * Resource-server guard: the request must carry a valid access token (`Authorization: Bearer …`, or
 * `DPoP …` with its proof when `dpop` is set). Sets `req.auth`. Failures go to `next(err)` as an
 * OidcError whose `headers` hold the RFC 6750 WWW-Authenticate challenge (401 / 403, never a redirect);
 * the headers are already set on the response, so any error handler sends them.
 */
export function requireBearer(options: BearerOptions): RequestHandler {
  const verifier = createBearerVerifier(options);
  return (req, res, next) => verify(verifier, req, res, next, () => privateNext(res, next));
}

/**
 * The bearer half of `requireAuth({ bearer })`: undefined without the option; otherwise a function that
 * takes over (and answers true) when the request carries `Authorization: Bearer|DPoP`, so a bad token
 * is refused outright and never falls back to the session.
 */
export function bearerBranch(
  engine: OidcEngine,
  option: BearerGuardOptions | true | undefined,
): ((req: Request, res: Response, next: NextFunction) => boolean) | undefined {
  if (option === undefined) return undefined;
  const verifier = engineBearerVerifier(engine, option);
  return (req, res, next) => {
    if (!carriesAccessToken(req.headers.authorization)) return false;
    verify(verifier, req, res, next, () => privateNext(res, next));
    return true;
  };
}
