/**
 * Issue 13: the setup mistakes of a first hour, named where they happen. A Secure session cookie on a
 * request the framework sees as http (behind a TLS proxy without `trust proxy` / `app.proxy`) would make
 * /login redirect without Set-Cookie and the callback fail; /login refuses it and says the fix. A route
 * the middleware does not run before gets ERR_OIDC_NOT_MOUNTED from `req.oidc`, not a TypeError.
 */
import express5 from 'express';
import express4 from 'express4';
import session from 'express-session';
import type { ErrorRequestHandler, Express } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oidc } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createKoaRpApp } from '../helpers/rp-koa-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const BASE_URL = 'https://app.example.com';
const silent = { debug() {}, info() {}, warn() {}, error() {} };

/** Express behind a TLS proxy, with `cookie.secure: true` as copied from a production example. */
function expressBehindProxy(major: 4 | 5, trustProxy: boolean): Express {
  const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
  const app = express();
  if (trustProxy) app.set('trust proxy', 1);
  app.use(session({ secret: 's', resave: false, saveUninitialized: false, cookie: { secure: true, sameSite: 'lax' } }));
  app.use(oidc({ issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: BASE_URL, logger: silent }));
  app.use(((err, _req, res, _next) => res.status(err.status).json({ error: err.code, message: err.message })) as ErrorRequestHandler);
  return app;
}

describe.each([5, 4] as const)('a Secure session cookie on a request seen as http (Express %i)', (major) => {
  it('behind a proxy without trust proxy: /login answers ERR_OIDC_INSECURE_COOKIE naming app.set("trust proxy", 1)', async () => {
    const res = await request(expressBehindProxy(major, false)).get('/login').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('ERR_OIDC_INSECURE_COOKIE');
    expect(res.body.message).toContain('app.set("trust proxy", 1)');
    expect(res.headers.location).toBeUndefined();
    expect(op.counters.authorization).toBe(0);
  });

  it('plain http: the message names secure "auto" for development', async () => {
    const res = await request(expressBehindProxy(major, false)).get('/login');
    expect(res.body.error).toBe('ERR_OIDC_INSECURE_COOKIE');
    expect(res.body.message).toContain('cookie: { secure: "auto" }');
  });

  it('with trust proxy set: the redirect carries the Secure session cookie', async () => {
    const res = await request(expressBehindProxy(major, true)).get('/login').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(302);
    expect(res.headers.location).toMatch(new RegExp(`^${op.issuer}/authorize\\?`));
    expect(String(res.headers['set-cookie'])).toMatch(/connect\.sid=.*; Secure/);
  });
});

describe('a Secure session cookie on a request seen as http (Koa)', () => {
  it('without app.proxy: /login answers ERR_OIDC_INSECURE_COOKIE naming app.proxy = true', async () => {
    const rp = createKoaRpApp({ issuer: op.issuer, baseUrl: BASE_URL, logger: silent }, [], { session: { secure: true, sameSite: 'lax' } });
    const res = await request(rp.app).get('/login').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('ERR_OIDC_INSECURE_COOKIE');
    expect(rp.errors[0]?.message).toContain('app.proxy = true');
    expect(op.counters.authorization).toBe(0);
  });

  it('with app.proxy: the redirect carries the Secure session cookie', async () => {
    const rp = createKoaRpApp({ issuer: op.issuer, baseUrl: BASE_URL, logger: silent }, [], { session: { secure: true, sameSite: 'lax' } });
    rp.koa.proxy = true;
    const res = await request(rp.app).get('/login').set('X-Forwarded-Proto', 'https');
    expect(res.status).toBe(302);
    expect(String(res.headers['set-cookie'])).toMatch(/sid=.*; secure/);
  });
});

describe.each([5, 4] as const)('req.oidc / res.oidc on a route the middleware does not run before (Express %i)', (major) => {
  function app(): Express {
    const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
    const a = express();
    a.use(session({ secret: 's', resave: false, saveUninitialized: false }));
    // Registered before app.use(auth): the middleware never runs for it.
    a.get('/early', (req, res) => {
      res.json({ loggedIn: req.oidc.isAuthenticated() });
    });
    a.get('/early-login', (_req, res, next) => {
      res.oidc.login().catch(next);
    });
    a.use(oidc({ issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: 'http://127.0.0.1:3000', logger: silent }));
    a.get('/late', (req, res) => {
      res.json({ loggedIn: req.oidc.isAuthenticated() });
    });
    a.use(((err, _req, res, _next) => res.status(err.status ?? 500).json({ error: err.code ?? err.name, message: err.message })) as ErrorRequestHandler);
    return a;
  }

  it('reading req.oidc throws ERR_OIDC_NOT_MOUNTED (500) that says to mount it first', async () => {
    const res = await request(app()).get('/early');
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('ERR_OIDC_NOT_MOUNTED');
    expect(res.body.message).toMatch(/^req\.oidc is not set on this request: .*app\.use\(auth\)/);
  });

  it('reading res.oidc throws ERR_OIDC_NOT_MOUNTED too', async () => {
    const res = await request(app()).get('/early-login');
    expect(res.body.error).toBe('ERR_OIDC_NOT_MOUNTED');
    expect(res.body.message).toMatch(/^res\.oidc is not set/);
  });

  it('a route after app.use(auth) sees its own req.oidc', async () => {
    await request(app()).get('/late').expect(200, { loggedIn: false });
  });
});
