/**
 * Issue 13: when something else already defines `oidc` on Node's request prototype, oidc() leaves it alone
 * and gives each request it handles its own `req.oidc` / `res.oidc` property instead (the slower path).
 * Each test file runs in its own process, so the prototype change stays in this file.
 */
import { IncomingMessage } from 'node:http';
import express from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, describe, expect, it } from 'vitest';
import { oidc } from '../../lib/express/index.js';

Object.defineProperty(IncomingMessage.prototype, 'oidc', { configurable: true, get: () => 'foreign' });
afterAll(() => {
  delete (IncomingMessage.prototype as { oidc?: unknown }).oidc;
});

describe('a foreign `oidc` on the request prototype', () => {
  it('is kept where the middleware does not run, and shadowed by our own where it does', async () => {
    const app = express();
    app.use(session({ secret: 's', resave: false, saveUninitialized: false, cookie: { sameSite: 'lax' } }));
    app.get('/before', (req, res) => {
      res.json({ oidc: req.oidc as unknown });
    });
    app.use(oidc({ issuer: 'http://127.0.0.1:9', clientId: 'rp', clientSecret: 's', baseUrl: 'http://127.0.0.1:3000', logger: { debug() {}, info() {}, warn() {}, error() {} } }));
    app.get('/after', (req, res) => {
      res.json({ loggedIn: req.oidc.isAuthenticated(), login: typeof res.oidc.login });
    });
    await request(app).get('/before').expect(200, { oidc: 'foreign' });
    await request(app).get('/after').expect(200, { loggedIn: false, login: 'function' });
    expect(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, 'oidc')?.get?.call({})).toBe('foreign');
  });
});
