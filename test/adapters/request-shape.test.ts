/**
 * Issue 14: `oidc()` and `requireAuth()` give the request no property of its own. Express's request
 * objects each get a hidden class of their own, and every property added halfway through a request made
 * V8 look up again, the slow way, each property read after it (by Express, express-session and the app):
 * about a tenth of a guarded request's instructions. `req.oidc` and `req.user` still work, through
 * accessors, for a logged-in and a logged-out request, on Express 4 and 5.
 */
import request from 'supertest';
import express4 from 'express4';
import express5 from 'express';
import session from 'express-session';
import type { Request, RequestHandler } from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidc } from '../../lib/express/index.js';
import type { ExpressOidcOptions } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { EXPRESS_MAJORS, localPath } from '../helpers/rp-app.js';
import { QUIET_LOGGER, RP_BASE_URL } from '../helpers/rp-common.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());

type Keys = Array<string | symbol>;

function appWithProbes(major: 4 | 5) {
  const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
  const seen: Record<string, Keys> = {};
  const probe = (name: string): RequestHandler => (req, _res, next) => {
    seen[name] = Reflect.ownKeys(req);
    next();
  };
  const app = express();
  app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, name: 'sid' }));
  const auth = oidc({ issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, logger: QUIET_LOGGER } as ExpressOidcOptions);
  app.use(probe('before oidc()'));
  app.use(auth);
  app.use(probe('after oidc()'));
  app.get('/page', (req, res) => {
    res.json({ user: req.user?.sub ?? null, authenticated: req.oidc.isAuthenticated() });
  });
  app.get('/guarded', probe('before requireAuth()'), auth.requireAuth(), probe('after requireAuth()'), (req: Request, res) => {
    const user = req.user?.sub;
    const context = req.oidc.isAuthenticated();
    seen['after reading req.user and req.oidc'] = Reflect.ownKeys(req);
    res.json({ user, context });
  });
  return { app, seen };
}

describe.each(EXPRESS_MAJORS)('the request keeps its own properties (Express %s)', (major) => {
  it('logged out: oidc() adds nothing to req, and req.oidc / req.user answer', async () => {
    const { app, seen } = appWithProbes(major);
    const res = await request(app).get('/page').expect(200);
    expect(res.body).toEqual({ user: null, authenticated: false });
    expect(seen['after oidc()']).toEqual(seen['before oidc()']);
  });

  it('logged in: neither oidc() nor requireAuth() nor reading req.user adds a property to req', async () => {
    const { app, seen } = appWithProbes(major);
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const res = await agent.get('/guarded').set('Accept', 'application/json').expect(200);
    expect(res.body.context).toBe(true);
    expect(typeof res.body.user).toBe('string');
    expect(res.headers['cache-control']).toMatch(/no-store/);
    expect(seen['after oidc()']).toEqual(seen['before oidc()']);
    expect(seen['after requireAuth()']).toEqual(seen['before requireAuth()']);
    expect(seen['after reading req.user and req.oidc']).toEqual(seen['before requireAuth()']);
  });
});

describe.each(EXPRESS_MAJORS)('the login lives in res.locals (Express %s)', (major) => {
  function app(replaceLocals: (res: { locals: Record<string | symbol, unknown> }) => void) {
    const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
    const app = express();
    app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, name: 'sid' }));
    const auth = oidc({ issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, logger: QUIET_LOGGER } as ExpressOidcOptions);
    app.use(auth);
    app.use((_req, res, next) => {
      replaceLocals(res as unknown as { locals: Record<string | symbol, unknown> });
      next();
    });
    app.get('/page', (req, res) => {
      res.json({ authenticated: req.oidc.isAuthenticated(), theme: res.locals.theme });
    });
    app.get('/guarded', auth.requireAuth(), (_req, res) => {
      res.json({ ok: true });
    });
    app.use(((err, _req, res, _next) => {
      res.status(err.status ?? 500).json({ error: err.code, message: err.message });
    }) as import('express').ErrorRequestHandler);
    return app;
  }

  it('an app that adds to res.locals, or copies it with a spread, keeps req.oidc', async () => {
    await request(app((res) => (res.locals.theme = 'dark'))).get('/page').expect(200, { authenticated: false, theme: 'dark' });
    await request(app((res) => (res.locals = { ...res.locals, theme: 'light' }))).get('/page').expect(200, { authenticated: false, theme: 'light' });
  });

  it('an app that replaces res.locals gets ERR_OIDC_NOT_MOUNTED naming the cause, not a TypeError', async () => {
    const res = await request(app((r) => (r.locals = { theme: 'dark' }))).get('/page').expect(500);
    expect(res.body.error).toBe('ERR_OIDC_NOT_MOUNTED');
    expect(res.body.message).toContain('res.locals');
    const guarded = await request(app((r) => (r.locals = {}))).get('/guarded').set('Accept', 'application/json');
    expect(guarded.body.error).toBe('ERR_OIDC_NOT_MOUNTED');
  });
});

