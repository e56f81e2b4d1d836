import type { Context, Middleware, Next } from 'koa';
import type { OidcEngine } from '../core/engine.js';
import type { RequireAuthOptions } from '../core/guards/require-auth.js';
import { koaBearerBranch } from './require-bearer.js';
import { contextOf, ensureAuthenticated, markPrivate } from './require-auth.js';
import type { OidcKoaState } from './state.js';

type BearerBranch = (ctx: Context, next: Next) => Promise<boolean>;

/**
 * `auth.requireAuth()` for routers in other files, which do not have `auth` at hand: the same guard,
 * finding the `oidc()` instance through `ctx.state.oidc` (ERR_OIDC_NOT_MOUNTED without it).
 */
export function requireAuth(options: RequireAuthOptions = {}): Middleware<OidcKoaState> {
  let bearer: { engine: OidcEngine; branch: BearerBranch | undefined } | undefined;
  return async (ctx, next) => {
    const context = contextOf(ctx);
    const engine = context.engine;
    if (options.bearer !== undefined) {
      if (bearer?.engine !== engine) bearer = { engine, branch: koaBearerBranch(engine, options.bearer) };
      if (bearer.branch && (await bearer.branch(ctx, next))) return;
    }
    if (!(await ensureAuthenticated(engine, ctx, options))) return;
    markPrivate(ctx);
    await next();
  };
}
