import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import session from 'koa-session';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oidc, resilientStore } from '../../lib/koa/index.js';
import type { KoaSessionStore } from '../../lib/koa/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { MemoryKoaStore } from '../helpers/koa-memory-store.js';
import { localPath, RP_BASE_URL } from '../helpers/rp-app.js';

type Mode = 'ok' | 'throw' | 'reject' | 'hang';
type Method = 'get' | 'set' | 'destroy';

/** A MemoryKoaStore whose calls can be made to throw, reject or hang, per method. */
class FlakyStore implements KoaSessionStore {
  readonly inner = new MemoryKoaStore();
  modes: Partial<Record<Method, Mode>> = {};

  private run<T>(method: Method, real: () => Promise<T>): Promise<T> {
    switch (this.modes[method] ?? 'ok') {
      case 'throw':
        throw new Error('The client is closed');
      case 'reject':
        return Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'));
      case 'hang':
        return new Promise<T>(() => undefined);
      default:
        return real();
    }
  }

  get(key: string) {
    return this.run('get', () => this.inner.get(key));
  }
  set(key: string, value: Record<string, unknown>, maxAge: number | 'session' | undefined) {
    return this.run('set', () => this.inner.set(key, value, maxAge));
  }
  destroy(key: string) {
    return this.run('destroy', () => this.inner.destroy(key));
  }
}

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

function app(store: KoaSessionStore, options: { handler?: boolean; backchannelLogout?: boolean } = {}) {
  const koa = new Koa();
  koa.keys = ['test-secret'];
  koa.silent = true;
  if (options.handler !== false) {
    koa.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = (err as { status?: number }).status ?? 500;
        ctx.body = { error: (err as { code?: string }).code ?? 'internal' };
      }
    });
  }
  koa.use(session({ key: 'sid', store }, koa));
  const auth = oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, issuer: op.issuer, backchannelLogout: options.backchannelLogout ?? false });
  koa.use(auth);
  koa.use(async (ctx, next) => {
    if (ctx.path === '/set') {
      (ctx.session as Record<string, unknown>).n = 1;
      ctx.body = { ok: true };
    } else if (ctx.path === '/read') {
      ctx.body = { n: (ctx.session as Record<string, unknown>).n ?? null };
    } else if (ctx.path === '/api/me') {
      await auth.requireAuth()(ctx, async () => {
        ctx.body = { user: ctx.state.user };
      });
    } else {
      await next();
    }
  });
  return koa.callback();
}

async function loggedIn(handler: ReturnType<typeof app>) {
  const agent = request.agent(handler);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return agent;
}

describe('resilientStore() for koa-session', () => {
  it('works like the store it wraps: login, guarded request, logout', async () => {
    const inner = new FlakyStore();
    const handler = app(resilientStore(inner));
    const agent = await loggedIn(handler);
    await agent.get('/api/me').expect(200);
    await agent.get('/logout').expect(302);
    expect(inner.inner.all()).toEqual({});
  });

  describe.each<Mode>(['throw', 'reject', 'hang'])('when the store\'s get %s', (mode) => {
    it('a request with a session cookie gets 503 ERR_OIDC_STORE_UNAVAILABLE within timeoutMs, and recovers', async () => {
      const inner = new FlakyStore();
      const agent = request.agent(app(resilientStore(inner, { timeoutMs: 150 })));
      await agent.get('/set').expect(200);
      inner.modes.get = mode;
      const started = Date.now();
      const res = await agent.get('/read');
      expect(res.status).toBe(503);
      expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
      expect(Date.now() - started).toBeLessThan(1000);
      inner.modes.get = 'ok';
      expect((await agent.get('/read').expect(200)).body.n).toBe(1);
    });
  });

  it("Koa's default error handler answers 503 with Retry-After", async () => {
    const inner = new FlakyStore();
    const agent = request.agent(app(resilientStore(inner, { timeoutMs: 100 }), { handler: false }));
    await agent.get('/set').expect(200);
    inner.modes.get = 'hang';
    const res = await agent.get('/read');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
  });

  it('a login that cannot save its transaction fails with 503 instead of redirecting to the IdP', async () => {
    const inner = new FlakyStore();
    inner.modes.set = 'reject';
    const res = await request(app(resilientStore(inner))).get('/login');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
    expect(op.counters.discovery).toBe(1);
  });

  it('a logout whose destroy hangs fails with 503 within timeoutMs, and the login is still there', async () => {
    const inner = new FlakyStore();
    const handler = app(resilientStore(inner, { timeoutMs: 100 }));
    const agent = await loggedIn(handler);
    inner.modes.destroy = 'hang';
    const res = await agent.get('/logout');
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('ERR_OIDC_STORE_UNAVAILABLE');
    inner.modes.destroy = 'ok';
    await agent.get('/api/me').expect(200);
  });

  it('back-channel logout answers 503 (so the IdP retries) while the store is down', async () => {
    const inner = new FlakyStore();
    const handler = app(resilientStore(inner, { timeoutMs: 100 }), { backchannelLogout: true });
    const agent = await loggedIn(handler);
    inner.modes.destroy = 'reject';
    const now = Math.floor(Date.now() / 1000);
    const token = await op.sign({
      iss: op.issuer, aud: 'rp', iat: now, exp: now + 120, jti: randomUUID(),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sid: op.logins.at(-1)?.sid,
    });
    const res = await request(handler).post('/backchannel-logout').type('form').send({ logout_token: token });
    expect(res.status).toBe(503);
    expect(res.body.error).toBe('temporarily_unavailable');
    await agent.get('/api/me').expect(200);
  });

  it('drops a late answer after the timeout', async () => {
    const slow: KoaSessionStore = {
      get: () => new Promise((resolve) => setTimeout(() => resolve({ n: 1 }), 120)),
      set: async () => undefined,
      destroy: async () => undefined,
    };
    await expect(resilientStore(slow, { timeoutMs: 50 }).get('k', undefined, { rolling: false })).rejects.toMatchObject({
      code: 'ERR_OIDC_STORE_UNAVAILABLE',
      status: 503,
    });
  });

  it('validates its arguments once, naming the option', () => {
    expect(() => resilientStore({} as KoaSessionStore)).toThrow(/resilientStore\(\): the store has no get\(\)/);
    expect(() => resilientStore(new MemoryKoaStore(), { timeoutMs: -1 })).toThrow(/"timeoutMs"/);
    expect(() => resilientStore(new MemoryKoaStore(), { timeout: 5 } as never)).toThrow(/unknown option "timeout"/);
  });
});
