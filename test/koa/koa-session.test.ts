import { randomUUID } from 'node:crypto';
import Koa from 'koa';
import session from 'koa-session';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oidc } from '../../lib/koa/index.js';
import type { KoaSessionStore, OidcKoaState } from '../../lib/koa/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { MemoryKoaStore } from '../helpers/koa-memory-store.js';
import { localPath, RP_BASE_URL } from '../helpers/rp-app.js';
import { createKoaRpApp } from '../helpers/rp-koa-app.js';
import type { KoaRpApp, KoaRpSetup } from '../helpers/rp-koa-app.js';
import type { TestRoute } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const OPTIONS = { clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL };

function app(setup: KoaRpSetup = {}, routes: TestRoute[] = [], options: Record<string, unknown> = {}): KoaRpApp {
  return createKoaRpApp({ issuer: op.issuer, ...options }, routes, setup);
}

/** The value of the `sid` cookie a response sets (koa-session's external key), if any. */
function sidCookie(res: request.Response): string | undefined {
  const cookies = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  return cookies.map((c) => /^sid=([^;]*)/.exec(c)?.[1]).find((v) => v !== undefined);
}

async function login(rp: KoaRpApp, agent = request.agent(rp.app)) {
  const start = await agent.get('/login').expect(302);
  const callbackUrl = await op.authorize(start.headers.location as string);
  const done = await agent.get(localPath(callbackUrl));
  return { agent, start, done, callbackUrl };
}

describe('koa-session configuration', () => {
  it('refuses a cookie-only koa-session on the first request, naming the fix, and sets no cookie', async () => {
    const rp = app({ session: { store: undefined } });
    for (const path of ['/', '/login']) {
      const res = await request(rp.app).get(path);
      expect(res.status).toBe(500);
      expect(res.body.error).toBe('ERR_OIDC_COOKIE_SESSION');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    expect(rp.errors[0]?.message).toMatch(/external store.*session\(\{ store \}, app\)/);
    expect(op.counters.discovery).toBe(0);
  });

  it('refuses a missing koa-session with ERR_OIDC_NO_SESSION naming koa-session', async () => {
    const bare = new Koa();
    const errors: unknown[] = [];
    bare.silent = true;
    bare.on('error', (err) => errors.push(err));
    bare.use(oidc({ issuer: op.issuer, ...OPTIONS }));
    const res = await request(bare.callback()).get('/login');
    expect(res.status).toBe(500);
    // Koa's own error handler: a 500 is not exposed, so the message stays in the log.
    expect(res.text).toBe('Internal Server Error');
    await request(bare.callback()).get('/').expect(500);
    expect(errors[0]).toMatchObject({ code: 'ERR_OIDC_NO_SESSION', status: 500, expose: false, message: expect.stringContaining('koa-session') });
  });

  it('works with a ContextStore class instead of a store object', async () => {
    const backing = new MemoryKoaStore();
    class PerRequestStore implements KoaSessionStore {
      get(key: string) { return backing.get(key); }
      set(key: string, value: Record<string, unknown>, maxAge: number | 'session' | undefined) { return backing.set(key, value, maxAge); }
      destroy(key: string) { return backing.destroy(key); }
    }
    const rp = app({ session: { store: undefined, ContextStore: PerRequestStore } });
    const { agent, done } = await login(rp);
    expect(done.status).toBe(302);
    await agent.get('/api/me').expect(200);
    expect(JSON.stringify(backing.all())).toContain('accessToken');
  });

  it('answers through Koa\'s default error handler with status and expose', async () => {
    const koa = new Koa();
    koa.keys = ['k'];
    koa.silent = true;
    koa.use(session({ store: new MemoryKoaStore() }, koa));
    koa.use(oidc({ issuer: op.issuer, ...OPTIONS }));
    const forged = await request(koa.callback()).get('/callback?code=x&state=forged');
    expect(forged.status).toBe(400);
    // A 400 is exposed: the message says the session cookie did not come back (ERR_OIDC_NO_SESSION_COOKIE).
    expect(forged.text).toMatch(/^The callback arrived without the session of the login/);
    op.behaviour.discoveryStatus = 500;
    const down = await request(koa.callback()).get('/login');
    expect(down.status).toBe(502);
    expect(down.text).toBe('Bad Gateway');
  });

  it('needs koa-session mounted before oidc(): after it, the callback finds no pending login', async () => {
    const koa = new Koa();
    koa.keys = ['k'];
    koa.silent = true;
    koa.use(oidc({ issuer: op.issuer, ...OPTIONS }));
    koa.use(session({ key: 'sid', store: new MemoryKoaStore() }, koa));
    const agent = request.agent(koa.callback());
    const start = await agent.get('/login').expect(302);
    const res = await agent.get(localPath(await op.authorize(start.headers.location as string)));
    expect(res.status).toBe(400);
    expect(res.text).toMatch(/^The callback arrived without the session of the login/);
  });

  it('throws ERR_OIDC_NOT_MOUNTED when requireAuth() runs without oidc()', async () => {
    const koa = new Koa<OidcKoaState>();
    const auth = oidc({ issuer: op.issuer, ...OPTIONS });
    const errors: unknown[] = [];
    koa.silent = true;
    koa.on('error', (err) => errors.push(err));
    koa.use(auth.requireAuth());
    expect((await request(koa.callback()).get('/')).status).toBe(500);
    expect(errors[0]).toMatchObject({ code: 'ERR_OIDC_NOT_MOUNTED' });
  });
});

describe('save before redirect', () => {
  it('the store holds the login when the callback redirect arrives, even with a slow store', async () => {
    const rp = app();
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const callbackUrl = await op.authorize(start.headers.location as string);
    rp.store.delayMs = 50;
    const done = await agent.get(localPath(callbackUrl)).expect(302);
    const snapshot = rp.store.all(); // synchronously, the instant the redirect was received
    const key = sidCookie(done) as string;
    expect(snapshot[key]).toMatchObject({ oidc: { auth: { sub: 'user-1', accessToken: expect.any(String) } } });
  });

  it('the pending login is in the store when the /login redirect arrives', async () => {
    const rp = app();
    rp.store.delayMs = 30;
    const start = await request(rp.app).get('/login').expect(302);
    const stored = rp.store.all()[sidCookie(start) as string] as { oidc: { transactions: Record<string, unknown> } };
    expect(Object.keys(stored.oidc.transactions)).toEqual([new URL(start.headers.location as string).searchParams.get('state')]);
  });

  it('persists the login with autoCommit: false (the app never commits)', async () => {
    const rp = app({ session: { autoCommit: false } });
    const { agent, done } = await login(rp);
    expect(done.status).toBe(302);
    await agent.get('/api/me').expect(200);
  });

  it('keeps the tokens out of the cookie: it carries the store key only', async () => {
    const rp = app();
    const { done } = await login(rp);
    const cookies = ([] as string[]).concat(done.headers['set-cookie'] ?? []).join('\n');
    expect(cookies).not.toMatch(/eyJ|accessToken|oidc/);
    expect(Object.keys(rp.store.all())).toEqual([sidCookie(done)]);
  });
});

describe('session regeneration at login', () => {
  const cart: KoaRpSetup['before'] = [
    async (ctx, next) => {
      if (ctx.path !== '/cart') return next();
      (ctx.session as Record<string, unknown>).cart = ['book'];
      ctx.body = { ok: true };
    },
  ];

  it('gives the browser a new key, destroys the old record, and drops anonymous app data', async () => {
    const rp = app({ before: cart });
    const agent = request.agent(rp.app);
    await agent.get('/cart').expect(200);
    const start = await agent.get('/login').expect(302);
    const anonymous = sidCookie(start) ?? Object.keys(rp.store.all())[0];
    const done = await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const fresh = sidCookie(done);
    expect(fresh).toBeDefined();
    expect(fresh).not.toBe(anonymous);
    const records = rp.store.all();
    expect(Object.keys(records)).toEqual([fresh]);
    expect(records[fresh as string]).not.toHaveProperty('cart');
  });

  it('carries the keys named in keepSessionData over the new key', async () => {
    const rp = app({ before: cart }, [], { keepSessionData: ['cart'] });
    const agent = request.agent(rp.app);
    await agent.get('/cart').expect(200);
    await login(rp, agent);
    expect(Object.values(rp.store.all())[0]).toMatchObject({ cart: ['book'], oidc: { auth: { sub: 'user-1' } } });
  });

  it('uses koa-session\'s prefix for the new key, and back-channel logout destroys that record', async () => {
    const rp = app({ session: { prefix: 'sess:' } }, [], { backchannelLogout: true });
    const { agent } = await login(rp);
    const [key] = Object.keys(rp.store.all());
    expect(key).toMatch(/^sess:/);
    const now = Math.floor(Date.now() / 1000);
    const token = await op.sign({
      iss: op.issuer, aud: 'rp', iat: now, exp: now + 120, jti: randomUUID(),
      events: { 'http://schemas.openid.net/event/backchannel-logout': {} }, sid: op.logins.at(-1)?.sid,
    });
    await request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: token }).expect(200);
    expect(rp.store.all()).toEqual({});
    await agent.get('/api/me').expect(401);
  });
});

describe('callback as a form POST', () => {
  async function postCallback(rp: KoaRpApp) {
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const query = new URL(await op.authorize(start.headers.location as string)).search.slice(1);
    const res = await agent.post('/callback').type('form').send(query);
    return { agent, res };
  }

  it('reads the urlencoded body from the stream and answers 303', async () => {
    const rp = app();
    const { agent, res } = await postCallback(rp);
    expect(res.status).toBe(303);
    await agent.get('/api/me').expect(200);
  });

  it('uses ctx.request.body when a body parser already ran', async () => {
    const parser: Koa.Middleware = async (ctx, next) => {
      if (ctx.method === 'POST' && ctx.is('urlencoded')) {
        let raw = '';
        for await (const chunk of ctx.req) raw += chunk;
        (ctx.request as { body?: unknown }).body = Object.fromEntries(new URLSearchParams(raw));
      }
      await next();
    };
    const rp = app({ before: [parser] });
    const { agent, res } = await postCallback(rp);
    expect(res.status).toBe(303);
    await agent.get('/api/me').expect(200);
  });
});

describe('ctx.state', () => {
  it('lets the app set ctx.state.user itself', async () => {
    const rp = app({
      before: [
        async (ctx, next) => {
          await next();
          if (ctx.path === '/') ctx.state.user = { sub: 'app-set' };
          if (ctx.path === '/') ctx.body = { user: ctx.state.user };
        },
      ],
    });
    const res = await request(rp.app).get('/').expect(200);
    expect(res.body.user).toEqual({ sub: 'app-set' });
  });
});

describe('a logout while a refreshed request is still running', () => {
  it('does not let koa-session write the login back when the slow request ends', async () => {
    op.behaviour.accessTokenTtl = 30;
    const slow: TestRoute = {
      method: 'get',
      path: '/slow',
      handler: async ({ oidc: context }) => {
        const token = await context?.getAccessToken({ minTtl: 60 });
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { token };
      },
    };
    const rp = app({}, [slow]);
    const { agent } = await login(rp);
    const pending = agent.get('/slow').then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 150));
    await agent.get('/logout').expect(302);
    expect((await pending).status).toBe(200);
    expect(op.tokenCalls.filter((c) => c.grantType === 'refresh_token')).toHaveLength(1);
    expect(JSON.stringify(rp.store.all())).not.toMatch(/"auth"|accessToken|refreshToken/);
    await agent.get('/api/me').expect(401);
  });
});
