import express from 'express';
import session from 'express-session';
import type { ErrorRequestHandler } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { oidc, resilientStore } from '../../lib/express/index.js';
import type { OidcOptions } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { RP_BASE_URL } from '../helpers/rp-app.js';

type Mode = 'ok' | 'fail' | 'hang' | 'throw' | 'reject' | 'twice' | 'enoent';
type Method = 'get' | 'set' | 'destroy' | 'touch';

/** A MemoryStore whose calls can be made to fail, hang, throw, reject or answer twice, per method. */
class FlakyStore extends session.MemoryStore {
  modes: Partial<Record<Method, Mode>> = {};
  calls: Record<Method, number> = { get: 0, set: 0, destroy: 0, touch: 0 };

  private run(method: Method, callback: ((...args: unknown[]) => void) | undefined, real: (cb: (...args: unknown[]) => void) => void): unknown {
    this.calls[method] += 1;
    const cb = callback ?? (() => undefined);
    switch (this.modes[method] ?? 'ok') {
      case 'fail': setImmediate(() => cb(new Error('ECONNREFUSED 127.0.0.1:6379'))); return undefined;
      case 'hang': return undefined;
      case 'throw': throw new Error('The client is closed');
      case 'reject': return Promise.reject(new Error('rejected'));
      case 'enoent': setImmediate(() => cb(Object.assign(new Error('no file'), { code: 'ENOENT' }))); return undefined;
      case 'twice': real((...args) => { cb(...args); cb(new Error('second answer')); }); return undefined;
      default: real(cb); return undefined;
    }
  }

  override get(sid: string, callback: (err: unknown, s?: session.SessionData | null) => void): void {
    return this.run('get', callback as never, (cb) => super.get(sid, cb)) as void;
  }
  override set(sid: string, s: session.SessionData, callback?: (err?: unknown) => void): void {
    return this.run('set', callback as never, (cb) => super.set(sid, s, cb)) as void;
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    return this.run('destroy', callback as never, (cb) => super.destroy(sid, cb)) as void;
  }
  override touch(sid: string, s: session.SessionData, callback?: () => void): void {
    return this.run('touch', callback as never, (cb) => super.touch(sid, s, cb)) as void;
  }
}

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());

function app(store: session.Store, withHandler = true) {
  const a = express();
  a.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, store, name: 'sid' }));
  const auth = oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, issuer: op.issuer } as OidcOptions);
  a.use(auth);
  a.get('/api/me', auth.requireAuth(), (req, res) => {
    res.json({ user: req.user });
  });
  a.get('/set', (req, res) => {
    (req.session as unknown as Record<string, unknown>).n = 1;
    res.json({ id: req.sessionID });
  });
  a.get('/read', (req, res) => {
    res.json({ n: (req.session as unknown as Record<string, unknown>).n ?? null });
  });
  a.get('/regenerate', (req, res, next) => {
    const before = req.sessionID;
    req.session.regenerate((err) => (err ? next(err) : res.json({ before, after: req.sessionID })));
  });
  if (withHandler) {
    const onError: ErrorRequestHandler = (err, _req, res, _next) => {
      res.status(err.status ?? 500).json({ error: err.code ?? 'internal' });
    };
    a.use(onError);
  }
  return a;
}

describe('resilientStore()', () => {
  it('is an express-session Store that works like the store it wraps (login, regenerate, touch)', async () => {
    const inner = new FlakyStore();
    const store = resilientStore(inner);
    expect(store).toBeInstanceOf(session.Store);
    expect(typeof store.touch).toBe('function');
    const agent = request.agent(app(store));
    await agent.get('/set').expect(200);
    expect((await agent.get('/read').expect(200)).body.n).toBe(1);
    const regen = await agent.get('/regenerate').expect(200);
    expect(regen.body.after).not.toBe(regen.body.before);
    expect(inner.calls.destroy).toBe(1);
    const start = await agent.get('/login').expect(302);
    const callback = new URL(await op.authorize(start.headers.location as string));
    await agent.get(callback.pathname + callback.search).expect(302);
    await agent.get('/api/me').expect(200);
    expect(inner.calls.touch).toBeGreaterThan(0);
  });

  it('offers touch/all/length/clear only when the wrapped store has them', () => {
    const bare = new (class extends session.Store {
      get(_sid: string, cb: (err: unknown, s?: session.SessionData | null) => void) { cb(null, null); }
      set(_sid: string, _s: session.SessionData, cb?: () => void) { cb?.(); }
      destroy(_sid: string, cb?: () => void) { cb?.(); }
    })();
    const wrapped = resilientStore(bare);
    expect(wrapped.touch).toBeUndefined();
    expect(wrapped.all).toBeUndefined();
    const memory = resilientStore(new session.MemoryStore());
    for (const method of ['touch', 'all', 'length', 'clear'] as const) expect(typeof memory[method]).toBe('function');
  });

  describe.each<[Mode, string]>([
    ['fail', 'calls back with an error'],
    ['throw', 'throws'],
    ['reject', 'returns a rejected promise'],
    ['hang', 'never answers'],
  ])('when the store %s (%s)', (mode) => {
    it('a request with a session cookie gets 503 ERR_OIDC_STORE_UNAVAILABLE, within timeoutMs', async () => {
      const inner = new FlakyStore();
      const agent = request.agent(app(resilientStore(inner, { timeoutMs: 150 })));
      await agent.get('/set').expect(200);
      inner.modes.get = mode;
      const started = Date.now();
      const res = await agent.get('/api/me');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(1000);
      inner.modes.get = 'ok';
      await agent.get('/api/me').expect(401);
    });
  });

  it("Express's default error handler answers 503 with Retry-After", async () => {
    const inner = new FlakyStore();
    const agent = request.agent(app(resilientStore(inner, { timeoutMs: 100 }), false));
    await agent.get('/set').expect(200);
    inner.modes.get = 'hang';
    const res = await agent.get('/read');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('a login that cannot save its transaction fails with 503 instead of redirecting to the IdP', async () => {
    const inner = new FlakyStore();
    inner.modes.set = 'fail';
    const res = await request(app(resilientStore(inner))).get('/login');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
  });

  it('a logout whose destroy hangs fails with 503 within timeoutMs', async () => {
    const inner = new FlakyStore();
    const agent = request.agent(app(resilientStore(inner, { timeoutMs: 100 })));
    await agent.get('/set').expect(200);
    inner.modes.destroy = 'hang';
    const res = await agent.get('/logout');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
  });

  it('never calls a callback twice: a second answer or a late answer after the timeout is dropped', async () => {
    const inner = new FlakyStore();
    inner.set('s1', { cookie: { originalMaxAge: null } } as never);
    const store = resilientStore(inner, { timeoutMs: 50 });
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
    resilientStore(slow, { timeoutMs: 50 }).get('s1', late);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(late).toHaveBeenCalledTimes(1);
    expect(late.mock.calls[0]?.[0]).toMatchObject({ code: 'ERR_OIDC_STORE_UNAVAILABLE', status: 503 });
  });

  it('passes ENOENT from get() through, which express-session reads as "no session"', async () => {
    const inner = new FlakyStore();
    const agent = request.agent(app(resilientStore(inner)));
    await agent.get('/set').expect(200);
    inner.modes.get = 'enoent';
    expect((await agent.get('/read').expect(200)).body.n).toBeNull();
  });

  it("does not forward the wrapped store's disconnect event (express-session would then drop every session)", async () => {
    const inner = new FlakyStore();
    const agent = request.agent(app(resilientStore(inner)));
    await agent.get('/set').expect(200);
    inner.emit('disconnect');
    expect((await agent.get('/read').expect(200)).body.n).toBe(1);
  });

  it('validates its arguments once, naming the option', () => {
    expect(() => resilientStore({} as session.Store)).toThrow(/resilientStore\(\): the first argument/);
    expect(() => resilientStore(new session.MemoryStore(), { timeoutMs: -1 })).toThrow(/"timeoutMs"/);
    expect(() => resilientStore(new session.MemoryStore(), { timeout: 5 } as never)).toThrow(/unknown option "timeout"/);
  });
});
