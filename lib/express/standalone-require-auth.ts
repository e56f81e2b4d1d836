import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OidcEngine } from '../core/engine.js';
import { userAccessor } from './accessors.js';
import { bearerBranch } from './require-bearer.js';
import { contextOf, ensureAuthenticated, markPrivate, passesAtOnce } from './require-auth.js';
import type { RequireAuthOptions } from './require-auth.js';

type BearerBranch = (req: Request, res: Response, next: NextFunction) => boolean;

/**
 * `auth.requireAuth()` for routers in other files, which do not have `auth` at hand (express-openid-connect's
 * `requiresAuth()`): the same guard, finding the `oidc()` instance through `req.oidc`. The request must
 * pass `app.use(auth)` first (otherwise ERR_OIDC_NOT_MOUNTED).
 */
export function requireAuth(options: RequireAuthOptions = {}): RequestHandler {
  // The access-token verifier belongs to one oidc() instance; made on first use, again if another serves.
  let bearer: { engine: OidcEngine; branch: BearerBranch | undefined } | undefined;
  // As auth.requireAuth(): req.user also in a sub-app Express did not mount.
  const subAppUser = userAccessor();
  return (req, res, next) => {
    let engine: OidcEngine;
    try {
      engine = contextOf(req).engine;
    } catch (err) {
      return next(err);
    }
    if (options.bearer !== undefined) {
      if (bearer?.engine !== engine) bearer = { engine, branch: bearerBranch(engine, options.bearer) };
      if (bearer.branch?.(req, res, next)) return;
    }
    subAppUser(req);
    if (passesAtOnce(engine, req, options)) {
      markPrivate(res);
      return next();
    }
    ensureAuthenticated(engine, req, res, options).then((pass) => {
      if (!pass) return;
      markPrivate(res);
      next();
    }, next);
  };
}
