/**
 * Security checklist §5.11 and §5.10 (OUT-01/02), CB-26: session fixation, forged cookies, store
 * failures at the worst moment, independent sessions, and availability while the IdP is down or slow.
 */
import { createHmac } from 'node:crypto';
import express from 'express';
import session from 'express-session';
import type { ErrorRequestHandler } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oidc, resilientStore } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, EXPRESS_MAJORS, localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import { loggedIn, nowSec, startLogin } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** The `sid` cookie as express-session signs it (cookie-signature: HMAC-SHA256, base64 without padding). */
function signedCookie(id: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `sid=${encodeURIComponent(`s:${id}.${mac}`)}`;
}

/** A MemoryStore whose get/set fail while the switch is on. */
class FailingStore extends session.MemoryStore {
  failGet = false;
  failSet = false;
  override get(sid: string, cb: (err: unknown, s?: session.SessionData | null) => void): void {
    if (this.failGet) return void setImmediate(() => cb(new Error('ECONNREFUSED 127.0.0.1:6379')));
    super.get(sid, cb);
  }
  override set(sid: string, s: session.SessionData, cb?: (err?: unknown) => void): void {
    if (this.failSet) return void setImmediate(() => cb?.(new Error('OOM command not allowed')));
    super.set(sid, s, cb);
  }
}

function appWithStore(store: session.Store) {
  const app = express();
  app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, store, name: 'sid' }));
  const auth = oidc({ issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL });
  app.use(auth);
  app.get('/api/me', auth.requireAuth(), (req, res) => res.json({ user: req.user }));
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    res.status(err.status ?? 500).json({ error: err.code ?? 'internal', message: err.expose ? err.message : 'error' });
  };
  app.use(onError);
  return app;
}

describe.each(EXPRESS_MAJORS)('session handling (Express %i)', (major) => {
  it('SES-01 a session cookie planted before login is worthless after it: new id, old record gone, old cookie anonymous', async () => {
    const rp = createRpApp({ issuer: op.issuer }, major);
    const attacker = await request(rp.app).get('/login').expect(302);
    const planted = (attacker.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
    const plantedId = Object.keys(await rp.sessions())[0];
    const victimStart = await request(rp.app).get('/login').set('Cookie', planted).expect(302);
    const back = await op.authorize(victimStart.headers.location as string);
    const done = await request(rp.app).get(localPath(back)).set('Cookie', planted).expect(302);
    const victimCookie = (done.headers['set-cookie'] as unknown as string[])[0]?.split(';')[0] as string;
    expect(victimCookie).not.toBe(planted);
    expect(Object.keys(await rp.sessions())).not.toContain(plantedId);
    await request(rp.app).get('/api/me').set('Cookie', victimCookie).expect(200);
    await request(rp.app).get('/api/me').set('Cookie', planted).set('Accept', 'application/json').expect(401);
  });

  it('SES-15 unsigned, badly signed, foreign-secret and unknown session ids are never adopted', async () => {
    const rp = createRpApp({ issuer: op.issuer }, major);
    await loggedIn(rp, op);
    const [id] = Object.keys(await rp.sessions());
    expect(id).toBeDefined();
    await request(rp.app).get('/api/me').set('Cookie', signedCookie(id as string, 'test-secret')).expect(200);
    const forged = [
      `sid=${id}`,
      `sid=${encodeURIComponent(`s:${id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`)}`,
      `sid=${encodeURIComponent(`s:${id}`)}`,
      signedCookie(id as string, 'another-secret'),
      signedCookie('attacker-chosen-id', 'test-secret'),
    ];
    for (const cookie of forged) {
      const res = await request(rp.app).get('/api/me').set('Cookie', cookie).set('Accept', 'application/json');
      expect(res.status).toBe(401);
    }
    expect(Object.keys(await rp.sessions())).toEqual([id]);
  });

  it('SES-10 the ID token expiring does not end the login (only absoluteDuration and the access token policy do)', async () => {
    let offset = 0;
    op.behaviour.idToken = { claims: { exp: nowSec() + 300 } };
    const rp = createRpApp({ issuer: op.issuer, clock: () => Date.now() + offset }, major);
    const agent = await loggedIn(rp, op);
    offset = 600_000;
    await agent.get('/api/me').expect(200);
  });

  it('SES-13 / SES-11 logout answers no-store, and the old cookie is anonymous with its record deleted', async () => {
    const rp = createRpApp({ issuer: op.issuer }, major);
    const agent = await loggedIn(rp, op);
    const res = await agent.get('/logout').expect(302);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });

  it('SES-14 the same user in two browsers has two independent sessions; logging out one keeps the other', async () => {
    const rp = createRpApp({ issuer: op.issuer }, major);
    const one = await loggedIn(rp, op);
    const two = await loggedIn(rp, op);
    expect(Object.keys(await rp.sessions())).toHaveLength(2);
    await one.get('/logout').expect(302);
    await one.get('/api/me').expect(401);
    await two.get('/api/me').expect(200);
  });
});

describe('session store failures', () => {
  it('SES-16 store.set fails after a good callback: 500 ERR_OIDC_SESSION_STORE, no success redirect, no token in the answer', async () => {
    const store = new FailingStore();
    const app = appWithStore(store);
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const back = await op.authorize(start.headers.location as string);
    store.failSet = true;
    const res = await agent.get(localPath(back));
    expect(res.status).toBe(500);
    expect(res.body.error).toBe('ERR_OIDC_SESSION_STORE');
    expect(res.headers.location).toBeUndefined();
    expect(op.counters.token).toBe(1);
    expect(JSON.stringify([res.headers, res.text])).not.toMatch(/at-[\w-]{10}|rt-[\w-]{10}|eyJ/);
    store.failSet = false;
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });

  it('CB-26 the store is down when the callback arrives (resilientStore): 503, the code is never redeemed', async () => {
    const store = new FailingStore();
    const app = appWithStore(resilientStore(store, { timeoutMs: 500 }));
    const agent = request.agent(app);
    const start = await agent.get('/login').expect(302);
    const back = await op.authorize(start.headers.location as string);
    store.failGet = true;
    const res = await agent.get(localPath(back));
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
    expect(op.counters.token).toBe(0);
    store.failGet = false;
    await agent.get(localPath(back)).expect(302);
  });
});

describe('availability', () => {
  it('OUT-01 with the IdP gone, existing sessions keep working without any IdP call', async () => {
    const gone = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
    const rp = createRpApp({ issuer: gone.issuer });
    const agent = await loggedIn(rp, gone);
    await gone.close();
    for (let i = 0; i < 5; i++) await agent.get('/api/me').expect(200);
  });

  it('OUT-02 callbacks stuck on a slow userinfo endpoint time out, and other routes stay fast meanwhile', async () => {
    op.behaviour.userinfoDelayMs = 10_000;
    const rp = createRpApp({ issuer: op.issuer, httpTimeout: 600 });
    const pending = await Promise.all(Array.from({ length: 10 }, () => startLogin(rp, op)));
    const callbacks = Promise.all(pending.map((p) => p.agent.get(p.callbackPath)));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    await request(rp.app).get('/').expect(200);
    expect(Date.now() - started).toBeLessThan(300);
    const results = await callbacks;
    expect(results.map((r) => r.status)).toEqual(Array(10).fill(504));
  });
});
