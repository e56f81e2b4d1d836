/**
 * Diagnostic variant of the `ours` app (bench/diagnose.ts): one route per slice of the guarded-request
 * path, so the cost of each slice shows up as the difference between two neighbouring routes.
 */
import type { RequestListener } from 'node:http';
import express from 'express';
import type { RequestHandler } from 'express';
import session from 'express-session';
import { OidcEngine } from '../lib/core/engine.js';
import { oidc, OidcRequestContext } from '../lib/express/index.js';
import type { BuiltApp } from './apps.js';
import type { ChildSpec, Command } from './protocol.js';

type Configure = Extract<Command, { cmd: 'configure' }>;

export async function buildDiagApp(spec: ChildSpec, config: Configure): Promise<BuiltApp> {
  // Under valgrind (DIAG_INSTRUCTIONS=1) the server runs ~50x slower: discovery must not time out.
  const auth = oidc({ issuer: config.issuer, clientId: config.clientId, clientSecret: config.clientSecret, baseUrl: config.baseUrl, revokeTokens: false, httpTimeout: 120_000 });
  const app = express();
  app.set('etag', false);
  app.use(session({ secret: spec.secret, resave: false, saveUninitialized: false, store: new session.MemoryStore(), name: 'sid' }));
  const readSession: RequestHandler = (req, res) => {
    res.json({ sub: req.session.oidc?.auth?.sub ?? null });
  };
  const noop: RequestHandler = (_req, _res, next) => next();
  const assignOnly: RequestHandler = (req, _res, next) => {
    (req as unknown as { ctx: object }).ctx = { req };
    next();
  };
  const defineProperty: RequestHandler = (req, _res, next) => {
    const ctx = { req };
    Object.defineProperty(req, 'diagUser', { configurable: true, enumerable: true, get: () => ctx, set() {} });
    next();
  };
  const guard = auth.requireAuth();
  // What attachContext() would cost with `req.user` as a plain data property (no per-request accessor):
  // a sketch of the proposed lib change, built from the exported pieces.
  const engine = new OidcEngine({ issuer: config.issuer, clientId: config.clientId, clientSecret: config.clientSecret, baseUrl: config.baseUrl, revokeTokens: false });
  const proposed: RequestHandler = (req, _res, next) => {
    const context = new OidcRequestContext(engine, req);
    req.oidc = context;
    req.user = context.user;
    if (engine.route(req.url) !== undefined) return next('route');
    next();
  };
  app.get('/floor', readSession);
  app.get('/noop', noop, readSession);
  app.get('/assign', assignOnly, readSession);
  app.get('/define-property', defineProperty, readSession);
  app.get('/oidc-mw', auth, readSession);
  app.get('/require-auth', auth, guard, readSession);
  app.get('/user', auth, guard, (req, res) => {
    res.json({ sub: req.user?.sub });
  });
  // Alternative: keep req.user lazy with one accessor on the app's request prototype (Express's documented
  // app.request extension point) instead of one per request object.
  const patched = new WeakSet<object>();
  function userGetter(this: { oidc?: unknown }): unknown {
    return this.oidc instanceof OidcRequestContext ? this.oidc.user : undefined;
  }
  function userSetter(this: object, value: unknown): void {
    Object.defineProperty(this, 'user', { configurable: true, enumerable: true, writable: true, value });
  }
  const prototypeAccessor: RequestHandler = (req, _res, next) => {
    const proto = Object.getPrototypeOf(req) as object;
    if (!patched.has(proto)) {
      Object.defineProperty(proto, 'user', { configurable: true, enumerable: true, get: userGetter, set: userSetter });
      patched.add(proto);
    }
    req.oidc = new OidcRequestContext(engine, req);
    if (engine.route(req.url) !== undefined) return next('route');
    next();
  };
  app.get('/proto-user', prototypeAccessor, guard, (req, res) => {
    res.json({ sub: req.user?.sub });
  });
  app.get('/proposed-mw', proposed, readSession);
  app.get('/proposed-user', proposed, guard, (req, res) => {
    res.json({ sub: req.user?.sub });
  });
  app.get('/user-twice', auth, guard, (req, res) => {
    res.json({ sub: req.user?.sub, name: req.user?.name });
  });
  // the login routes, for the bench's login driver
  app.use(auth);
  return {
    handler: app as unknown as RequestListener,
    async handle(command) {
      throw new Error(`unsupported command ${command.cmd} for ${spec.name}`);
    },
    async close() {},
  };
}
