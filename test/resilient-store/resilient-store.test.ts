import { randomUUID } from 'node:crypto';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { resilientStore as expressResilientStore } from '../../lib/express/index.js';
import { resilientStore as koaResilientStore } from '../../lib/koa/index.js';
import type { KoaSessionStore } from '../../lib/koa/index.js';
import { EXPRESS_FIXTURE, FlakyExpressStore, KOA_FIXTURE } from '../helpers/flaky-session-stores.js';
import type { Handler, Mode } from '../helpers/flaky-session-stores.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { MemoryKoaStore } from '../helpers/koa-memory-store.js';
import { localPath } from '../helpers/rp-app.js';

// resilientStore() of both adapters: the same promises (503 within timeoutMs, recovery, no half-done
// login or logout), then what only one framework's store contract has.

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function loggedIn(app: Handler) {
  const agent = request.agent(app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return agent;
}

describe.each([EXPRESS_FIXTURE, KOA_FIXTURE])('resilientStore() ($name)', (fixture) => {
  it('works like the store it wraps: login, guarded request, logout', async () => {
    const { store, app } = fixture.setup(op);
    const agent = await loggedIn(app);
    await agent.get('/api/me').expect(200);
    await agent.get('/logout').expect(302);
    expect(store.count()).toBe(0);
  });

  describe.each(fixture.outages.map((mode) => [mode] as [Mode]))("when the store's get does %s", (mode) => {
    it('a request with a session cookie gets 503 ERR_OIDC_STORE_UNAVAILABLE within timeoutMs, and recovers', async () => {
      const { store, app } = fixture.setup(op, { timeoutMs: 150 });
      const agent = request.agent(app);
      await agent.get('/set').expect(200);
      store.modes.get = mode;
      const started = Date.now();
      const res = await agent.get('/read');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(1000);
      store.modes.get = 'ok';
      expect((await agent.get('/read').expect(200)).body.n).toBe(1);
    });
  });

  it("the framework's default error handler answers 503 with Retry-After", async () => {
    const { store, app } = fixture.setup(op, { timeoutMs: 100, handler: false });
    const agent = request.agent(app);
    await agent.get('/set').expect(200);
    store.modes.get = 'hang';
    const res = await agent.get('/read');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('a login that cannot save its transaction fails with 503 instead of redirecting to the IdP', async () => {
    const { store, app } = fixture.setup(op);
    store.modes.set = 'reject';
    const res = await request(app).get('/login');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
    expect(op.counters.discovery).toBe(1);
  });

  it('a logout whose destroy hangs fails with 503 within timeoutMs, and the login is still there', async () => {
    const { store, app } = fixture.setup(op, { timeoutMs: 100 });
    const agent = await loggedIn(app);
    store.modes.destroy = 'hang';
    const res = await agent.get('/logout');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
    store.modes.destroy = 'ok';
    await agent.get('/api/me').expect(200);
  });

  it('back-channel logout answers 503 (so the IdP retries) while the store is down', async () => {
    const { store, app } = fixture.setup(op, { timeoutMs: 100, backchannelLogout: true });
    const agent = await loggedIn(app);
    store.modes.destroy = 'reject';
    const now = Math.floor(Date.now() / 1000);
    const token = await op.sign({
      iss: op.issuer, aud: 'rp', iat: now, exp: now + 120, jti: randomUUID(),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sid: op.logins.at(-1)?.sid,
    });
    const res = await request(app).post('/backchannel-logout').type('form').send({ logout_token: token });
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    await agent.get('/api/me').expect(200);
  });

  it('validates its options once, naming the option', () => {
    expect(() => fixture.wrapWith({ timeoutMs: -1 })).toThrow(/resilientStore\(\): "timeoutMs"/);
    expect(() => fixture.wrapWith({ timeout: 5 })).toThrow(/unknown option "timeout"/);
  });
});

describe('resilientStore() (express-session stores only)', () => {
  it('is an express-session Store that works like the store it wraps (regenerate, touch)', async () => {
    const { store, app } = EXPRESS_FIXTURE.setup(op);
    const inner = store as FlakyExpressStore;
    expect(expressResilientStore(new session.MemoryStore())).toBeInstanceOf(session.Store);
    const agent = request.agent(app);
    await agent.get('/set').expect(200);
    expect((await agent.get('/read').expect(200)).body.n).toBe(1);
    const regen = await agent.get('/regenerate').expect(200);
    expect(regen.body.after).not.toBe(regen.body.before);
    expect(inner.calls.destroy).toBe(1);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    await agent.get('/api/me').expect(200);
    expect(inner.calls.touch).toBeGreaterThan(0);
  });

  it('offers touch/all/length/clear only when the wrapped store has them', () => {
    const bare = new (class extends session.Store {
      get(_sid: string, cb: (err: unknown, s?: session.SessionData | null) => void) { cb(null, null); }
      set(_sid: string, _s: session.SessionData, cb?: () => void) { cb?.(); }
      destroy(_sid: string, cb?: () => void) { cb?.(); }
    })();
    const wrapped = expressResilientStore(bare);
    expect(wrapped.touch).toBeUndefined();
    expect(wrapped.all).toBeUndefined();
    const memory = expressResilientStore(new session.MemoryStore());
    for (const method of ['touch', 'all', 'length', 'clear'] as const) expect(typeof memory[method]).toBe('function');
  });

  it('never calls a callback twice: a second answer or a late answer after the timeout is dropped', async () => {
    const inner = new FlakyExpressStore();
    inner.set('s1', { cookie: { originalMaxAge: null } } as never);
    const store = expressResilientStore(inner, { timeoutMs: 50 });
    inner.modes.get = 'twice';
    const twice = vi.fn();
    store.get('s1', twice);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(twice).toHaveBeenCalledTimes(1);
    expect(twice.mock.calls[0]?.[0]).toBeNull();

    const slow = new (class extends session.MemoryStore {
      override get(sid: string, cb: (err: unknown, s?: session.SessionData | null) => void) {
        setTimeout(() => super.get(sid, cb), 120);
      }
    })();
    const late = vi.fn();
    expressResilientStore(slow, { timeoutMs: 50 }).get('s1', late);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(late).toHaveBeenCalledTimes(1);
    expect(late.mock.calls[0]?.[0]).toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE', status: 503 });
  });

  it('passes ENOENT from get() through, which express-session reads as "no session"', async () => {
    const { store, app } = EXPRESS_FIXTURE.setup(op);
    const agent = request.agent(app);
    await agent.get('/set').expect(200);
    store.modes.get = 'enoent';
    expect((await agent.get('/read').expect(200)).body.n).toBeNull();
  });

  it("does not forward the wrapped store's disconnect event (express-session would then drop every session)", async () => {
    const { store, app } = EXPRESS_FIXTURE.setup(op);
    const agent = request.agent(app);
    await agent.get('/set').expect(200);
    (store as FlakyExpressStore).emit('disconnect');
    expect((await agent.get('/read').expect(200)).body.n).toBe(1);
  });

  it('refuses anything but an express-session store', () => {
    expect(() => expressResilientStore({} as session.Store)).toThrow(/resilientStore\(\): the first argument/);
  });
});

describe('resilientStore() (koa-session stores only)', () => {
  it('drops a late answer after the timeout', async () => {
    const slow: KoaSessionStore = {
      get: () => new Promise((resolve) => setTimeout(() => resolve({ n: 1 }), 120)),
      set: async () => undefined,
      destroy: async () => undefined,
    };
    await expect(koaResilientStore(slow, { timeoutMs: 50 }).get('k', undefined, { rolling: false })).rejects.toMatchObject({
      code: 'ERR_OIDC_STORE_UNAVAILABLE',
      status: 503,
    });
  });

  it('refuses a store without get/set/destroy', () => {
    expect(() => koaResilientStore({} as KoaSessionStore)).toThrow(/resilientStore\(\): the store has no get\(\)/);
    expect(() => koaResilientStore(new MemoryKoaStore(), {})).not.toThrow();
  });
});
