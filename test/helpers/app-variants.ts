/**
 * Test apps that vary what real apps do around us (issue 12): the error handler (a JSON one that ignores
 * `err.headers`, or the framework's default), body parsers mounted before `oidc()`
 * (`express.urlencoded({ extended: true })`, `express.json()`, a Koa body parser), `trust proxy` /
 * `app.proxy`, and routes mounted on a sub-path. Routes are declared once and built for each adapter
 * from its public exports.
 */
import type { RequestListener } from 'node:http';
import Router from '@koa/router';
import express5 from 'express';
import express4 from 'express4';
import session from 'express-session';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import Koa from 'koa';
import koaSession from 'koa-session';
import type { CreateSessionOptions } from 'koa-session';
import * as ex from '../../lib/express/index.js';
import * as kx from '../../lib/koa/index.js';
import type { BearerGuardOptions, BearerOptions, OidcOptions } from '../../lib/express/index.js';
import type { RequireAuthOptions } from '../../lib/core/guards/require-auth.js';
import { MemoryKoaStore } from './koa-memory-store.js';
import { ADAPTERS, RP_BASE_URL } from './rp-common.js';
import type { Adapter } from './rp-common.js';

/** `json`: `res.status(err.status).json(...)` / a Koa try/catch that sets status and body only. `default`: the framework's own handler. */
export type ErrorHandling = 'json' | 'default';
export type BodyParser = 'urlencoded-extended' | 'json' | 'none';

export interface AppVariant {
  adapter: Adapter;
  errors: ErrorHandling;
}

/** Every adapter with both kinds of error handler; `%s` in a test name prints `name`. */
export const ERROR_VARIANTS: Array<AppVariant & { name: string }> = ADAPTERS.flatMap((adapter) =>
  (['json', 'default'] as const).map((errors) => ({
    adapter,
    errors,
    name: `${adapter}, ${errors === 'json' ? `${adapter === 'koa' ? 'a try/catch JSON error middleware' : 'a JSON error handler'} ignoring err.headers` : 'the default error handler'}`,
  })),
);

/** The guards under the same names from each adapter's public exports. */
export interface VariantKit {
  requireBearer(options: BearerOptions): unknown;
  requireAuth(options?: RequireAuthOptions & { bearer?: BearerGuardOptions | true }): unknown;
  requireScopes(...scopes: string[]): unknown;
  requireRoles(...roles: string[]): unknown;
}

export interface VariantRoute {
  method: 'get' | 'post';
  path: string;
  guards(kit: VariantKit): unknown[];
}

export interface VariantSetup extends AppVariant {
  /** `oidc()` options on top of clientId rp / rp-secret and baseUrl RP_BASE_URL; no `oidc()` at all when undefined. */
  oidc?: Partial<OidcOptions>;
  routes?: VariantRoute[];
  /** Mounted before `oidc()`. */
  bodyParser?: BodyParser;
  /** `app.set('trust proxy', 1)` / `app.proxy = true`. */
  trustProxy?: boolean;
  /** The routes live in a router mounted here (e.g. `/v1`). */
  mountPath?: string;
}

/** What a variant route answers: who the request is, by token or by session. */
function caller(auth: { sub?: string; scheme?: string } | undefined, user: { sub?: string } | undefined): Record<string, unknown> {
  return auth ? { via: 'bearer', sub: auth.sub, scheme: auth.scheme } : { via: 'session', sub: user?.sub };
}

function expressApp(setup: VariantSetup): RequestListener {
  const express = (setup.adapter === 'express4' ? express4 : express5) as unknown as typeof express5;
  const app = express();
  if (setup.trustProxy) app.set('trust proxy', 1);
  app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, name: 'sid' }));
  if (setup.bodyParser === 'urlencoded-extended') app.use(express.urlencoded({ extended: true }));
  if (setup.bodyParser === 'json') app.use(express.json());
  const auth = setup.oidc ? ex.oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, ...setup.oidc } as ex.ExpressOidcOptions) : undefined;
  if (auth) app.use(auth);
  const kit: VariantKit = {
    requireBearer: ex.requireBearer,
    requireAuth: (options) => {
      if (!auth) throw new Error('app-variants: requireAuth needs oidc options');
      return auth.requireAuth(options);
    },
    requireScopes: ex.requireScopes,
    requireRoles: ex.requireRoles,
  };
  const router = express.Router();
  for (const route of setup.routes ?? []) {
    router[route.method](route.path, ...(route.guards(kit) as RequestHandler[]), (req, res) => {
      res.json(caller(req.auth, req.user));
    });
  }
  app.use(setup.mountPath ?? '/', router);
  if (setup.errors === 'json') {
    const onError: ErrorRequestHandler = (err, _req, res, _next) => {
      res.status(err.status ?? 500).json({ error: err.code ?? 'internal', message: err.expose ? err.message : 'error' });
    };
    app.use(onError);
  }
  return app as unknown as RequestListener;
}

/** `a[b]=c` → { a: { b: 'c' } }, one level deep: what qs (behind @koa/bodyparser) makes of bracketed names. */
function nestedForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of new URLSearchParams(text)) {
    const match = /^([^[\]]+)\[([^\]]*)\]$/.exec(name);
    if (!match) {
      out[name] = value;
      continue;
    }
    const [, outer, inner] = match as unknown as [string, string, string];
    const nested = (typeof out[outer] === 'object' && out[outer] !== null ? out[outer] : {}) as Record<string, unknown>;
    nested[inner] = value;
    out[outer] = nested;
  }
  return out;
}

/** What @koa/bodyparser does for forms (nested keys) and JSON, in a few lines. */
function koaBodyParser(kind: BodyParser): Koa.Middleware {
  return async (ctx, next) => {
    const type = (ctx.get('content-type') || '').split(';')[0]?.trim();
    const wanted = kind === 'json' ? 'application/json' : 'application/x-www-form-urlencoded';
    if (ctx.method === 'POST' && type === wanted) {
      const chunks: Buffer[] = [];
      for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      (ctx.request as { body?: unknown }).body = kind === 'json' ? JSON.parse(text || '{}') : nestedForm(text);
    }
    await next();
  };
}

function koaApp(setup: VariantSetup): RequestListener {
  const app = new Koa<kx.OidcKoaState & kx.BearerKoaState>();
  app.silent = true;
  app.keys = ['test-secret'];
  if (setup.trustProxy) app.proxy = true;
  if (setup.errors === 'json') {
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (caught) {
        const err = caught as { code?: string; status?: number; expose?: boolean; message: string };
        ctx.status = err.status ?? 500;
        ctx.body = { error: err.code ?? 'internal', message: err.expose ? err.message : 'error' };
      }
    });
  }
  app.use(koaSession({ key: 'sid', store: new MemoryKoaStore() } as CreateSessionOptions, app as unknown as Koa));
  if (setup.bodyParser && setup.bodyParser !== 'none') app.use(koaBodyParser(setup.bodyParser));
  const auth = setup.oidc ? kx.oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, ...setup.oidc } as kx.KoaOidcOptions) : undefined;
  if (auth) app.use(auth);
  const kit: VariantKit = {
    requireBearer: kx.requireBearer,
    requireAuth: (options) => {
      if (!auth) throw new Error('app-variants: requireAuth needs oidc options');
      return auth.requireAuth(options);
    },
    requireScopes: kx.requireScopes,
    requireRoles: kx.requireRoles,
  };
  const router = new Router<kx.OidcKoaState & kx.BearerKoaState>(setup.mountPath ? { prefix: setup.mountPath } : {});
  for (const route of setup.routes ?? []) {
    const guards = route.guards(kit) as Array<Koa.Middleware<kx.OidcKoaState & kx.BearerKoaState>>;
    router[route.method](route.path, ...guards, (ctx) => {
      ctx.body = caller(ctx.state.auth, ctx.state.user);
    });
  }
  app.use(router.routes());
  return app.callback();
}

/** The app for one variant, as a request listener (supertest or http.createServer). */
export function variantApp(setup: VariantSetup): RequestListener {
  return setup.adapter === 'koa' ? koaApp(setup) : expressApp(setup);
}
