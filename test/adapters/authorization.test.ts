import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Koa from 'koa';
import { requireRoles } from '../../lib/express/index.js';
import { requireRoles as koaRequireRoles } from '../../lib/koa/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpApp, RpOptions, TestRoute } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const ok = () => ({ ok: true });
const GUARDED_ROUTES: TestRoute[] = [
  { method: 'get', path: '/admin', guard: (k) => k.requireRoles('admin'), handler: ok },
  { method: 'get', path: '/editor', guard: (k) => k.requireRoles('editor', 'owner'), handler: ok },
  { method: 'get', path: '/tenant', guard: (k) => k.claimEquals('org.id', 'acme'), handler: ok },
  { method: 'get', path: '/ns', guard: (k) => k.claimIncludes('https://example.com/groups', 'a', 'b'), handler: ok },
  { method: 'get', path: '/custom', guard: (k) => k.claimCheck(async (user) => (user.email as string).endsWith('@example.com')), handler: ok },
  { method: 'get', path: '/scoped', guard: (k) => k.requireScopes('openid', 'email'), handler: ok },
  { method: 'get', path: '/scoped-admin', guard: (k) => k.requireScopes('admin:all'), handler: ok },
];

function guardedApp(adapter: Adapter, options: RpOptions = {}): RpApp {
  return createRp(adapter, { issuer: op.issuer, ...options }, GUARDED_ROUTES);
}

/** An app's own error page, in each framework's idiom. */
const ERROR_PAGES: Record<Adapter, unknown> = {
  express5: (err: { status: number; code: string }, _req: unknown, res: import('express').Response) => {
    res.status(err.status).type('html').send(`<h1>Sorry</h1><p>${err.code}</p>`);
  },
  express4: (err: { status: number; code: string }, _req: unknown, res: import('express').Response) => {
    res.status(err.status).type('html').send(`<h1>Sorry</h1><p>${err.code}</p>`);
  },
  koa: (err: { status: number; code: string }, ctx: Koa.Context) => {
    ctx.status = err.status;
    ctx.type = 'html';
    ctx.body = `<h1>Sorry</h1><p>${err.code}</p>`;
  },
};

async function login(rp: RpApp, claims: Record<string, unknown> = {}) {
  op.behaviour.idToken = { claims };
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return agent;
}

describe.each(ADAPTERS)('guards (%s)', (adapter) => {
  it('treat a logged-out request like requireAuth: login for browsers, 401 for APIs', async () => {
    const rp = guardedApp(adapter);
    expect((await request(rp.app).get('/admin').set('Accept', 'application/json')).status).toBe(401);
    const page = await request(rp.app).get('/admin').set('Accept', 'text/html');
    expect(page.status).toBe(302);
    expect(page.headers.location?.startsWith(op.issuer)).toBe(true);
  });

  it('requireRoles: any one role passes; none gives 403 ERR_OIDC_FORBIDDEN (no login loop)', async () => {
    const rp = guardedApp(adapter);
    const agent = await login(rp, { roles: ['admin', 'user'] });
    await agent.get('/admin').expect(200);
    const denied = await agent.get('/editor').set('Accept', 'text/html');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toBe('ERR_OIDC_FORBIDDEN');
  });

  it('requireRoles reads the claim named by rolesClaim (Keycloak realm_access.roles)', async () => {
    const rp = guardedApp(adapter, { rolesClaim: 'realm_access.roles' });
    const agent = await login(rp, { roles: ['user'], realm_access: { roles: ['admin'] } });
    await agent.get('/admin').expect(200);
  });

  it('requireRoles reads a namespaced (Auth0-style) claim as one key', async () => {
    const rp = guardedApp(adapter, { rolesClaim: 'https://example.com/roles' });
    const agent = await login(rp, { 'https://example.com/roles': ['owner'] });
    await agent.get('/editor').expect(200);
    await agent.get('/admin').expect(403);
  });

  it('claimEquals on a nested path, claimIncludes on a namespaced claim', async () => {
    const rp = guardedApp(adapter);
    const agent = await login(rp, { org: { id: 'acme' }, 'https://example.com/groups': ['a', 'b', 'c'] });
    await agent.get('/tenant').expect(200);
    await agent.get('/ns').expect(200);
    const other = await login(rp, { org: { id: 'evil' }, 'https://example.com/groups': ['a'] });
    await other.get('/tenant').expect(403);
    await other.get('/ns').expect(403);
  });

  it('claimCheck runs an async predicate over the user', async () => {
    const rp = guardedApp(adapter);
    op.behaviour.userinfoClaims = { email: 'ann@example.com' };
    await (await login(rp)).get('/custom').expect(200);
    op.behaviour.userinfoClaims = { email: 'ann@evil.example' };
    await (await login(rp)).get('/custom').expect(403);
  });

  it('requireScopes checks the granted scope of the token', async () => {
    const rp = guardedApp(adapter);
    op.behaviour.tokenExtra = { scope: 'openid profile email' };
    const agent = await login(rp);
    await agent.get('/scoped').expect(200);
    await agent.get('/scoped-admin').expect(403);
  });

  it('answers 500 ERR_OIDC_NOT_MOUNTED when oidc() is not mounted', async () => {
    let app: Parameters<typeof request>[0];
    if (adapter === 'koa') {
      const koa = new Koa();
      koa.use(async (ctx, next) => {
        try {
          await next();
        } catch (err) {
          ctx.status = (err as { status: number }).status;
          ctx.body = { error: (err as { code: string }).code };
        }
      });
      koa.use(koaRequireRoles('admin'));
      app = koa.callback();
    } else {
      const express = (await import(adapter === 'express4' ? 'express4' : 'express')).default as typeof import('express');
      const expressApp = express();
      expressApp.get('/', requireRoles('admin'), (_req, res) => res.end());
      expressApp.use(((err, _req, res, _next) => res.status(err.status).json({ error: err.code })) as import('express').ErrorRequestHandler);
      app = expressApp;
    }
    const res = await request(app).get('/');
    expect(res.body.error).toBe('ERR_OIDC_NOT_MOUNTED');
  });
});

const CART_ROUTES: TestRoute[] = [
  {
    method: 'post',
    path: '/cart',
    handler: ({ session }) => {
      session.cart = ['book'];
      session.secret = 'x';
      return { ok: true };
    },
  },
  { method: 'get', path: '/cart', handler: ({ session }) => ({ cart: session.cart ?? null, secret: session.secret ?? null }) },
];

describe.each(ADAPTERS)('hooks (%s)', (adapter) => {
  it('onLogin maps the user that req.user becomes', async () => {
    const seen: Array<Record<string, unknown>> = [];
    const rp = guardedApp(adapter, {
      onLogin: async ({ claims, userinfo, tokens, req }) => {
        seen.push({ sub: claims.sub, hasUserinfo: !!userinfo, hasAccessToken: !!tokens.accessToken, hasReq: typeof req?.get === 'function' });
        return { sub: claims.sub, iss: claims.iss, id: `local-${claims.sub}`, roles: ['admin'] };
      },
    });
    const agent = await login(rp);
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.user).toEqual({ sub: 'user-1', iss: expect.any(String), id: 'local-user-1', roles: ['admin'] });
    await agent.get('/admin').expect(200);
    expect(seen).toEqual([{ sub: 'user-1', hasUserinfo: true, hasAccessToken: true, hasReq: true }]);
  });

  it.each([
    ['returns false', () => false],
    ['throws', () => {
      throw new Error('banned');
    }],
  ])('onLogin refuses the login when it %s: 403, no session', async (_name, hook) => {
    const rp = guardedApp(adapter, { onLogin: hook as RpOptions['onLogin'] });
    op.behaviour.idToken = {};
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const res = await agent.get(localPath(await op.authorize(start.headers.location as string)));
    expect(res.status).toBe(403);
    expect(res.body.error).toBe('ERR_OIDC_LOGIN_REFUSED');
    expect(JSON.stringify(await rp.sessions())).not.toMatch(/accessToken/);
    await agent.get('/api/me').expect(401);
  });

  it('onLogout sees the user; onRefresh runs once for a burst of requests', async () => {
    const events: string[] = [];
    let offset = 0;
    op.behaviour.accessTokenTtl = 30;
    const rp = guardedApp(adapter, {
      clock: () => Date.now() + offset,
      onLogout: ({ user }) => {
        events.push(`logout:${user?.sub as string}`);
      },
      onRefresh: ({ tokens }) => {
        events.push(`refresh:${tokens.accessToken.length > 0}`);
      },
    });
    const agent = await login(rp);
    offset = 31_000;
    await Promise.all(Array.from({ length: 10 }, () => agent.get('/api/me').expect(200)));
    await agent.get('/logout').expect(302);
    expect(events).toEqual(['refresh:true', 'logout:user-1']);
  });

  it('onError renders the app page for access_denied instead of next(err)', async () => {
    const rp = guardedApp(adapter, {
      onError: ERROR_PAGES[adapter],
    });
    op.behaviour.authorizeError = { error: 'access_denied', error_description: '<b>no</b>' };
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const res = await agent.get(localPath(await op.authorize(start.headers.location as string)));
    expect(res.status).toBe(401);
    expect(res.text).toBe('<h1>Sorry</h1><p>ERR_OIDC_ACCESS_DENIED</p>');
    expect(rp.errors).toHaveLength(0);
  });

  it('keepSessionData carries anonymous data over the login, but never to another user', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, keepSessionData: ['cart'] }, CART_ROUTES);
    const agent = request.agent(rp.app);
    await agent.post('/cart').expect(200);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    expect((await agent.get('/cart')).body).toEqual({ cart: ['book'], secret: null });
    op.behaviour.sub = 'someone-else';
    const again = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(again.headers.location as string))).expect(302);
    expect((await agent.get('/cart')).body).toEqual({ cart: null, secret: null });
  });

  it('without keepSessionData nothing of the anonymous session survives the login', async () => {
    const rp = createRp(adapter, { issuer: op.issuer }, CART_ROUTES);
    const agent = request.agent(rp.app);
    await agent.post('/cart').expect(200);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    expect((await agent.get('/cart')).body).toEqual({ cart: null, secret: null });
  });
});

describe.each(ADAPTERS)('login control (%s)', (adapter) => {
  it('res.oidc.login() starts a login from any route with extra parameters', async () => {
    const rp = createRp(adapter, { issuer: op.issuer }, [
      { method: 'get', path: '/signup', handler: ({ login }) => login({ returnTo: '/welcome', authorizationParams: { prompt: 'create', ui_locales: 'fr' } }) },
      { method: 'get', path: '/bad', handler: ({ login }) => login({ authorizationParams: { redirect_uri: 'https://evil' } }) },
    ]);
    const agent = request.agent(rp.app);
    const res = await agent.get('/signup').expect(302);
    const q = new URL(res.headers.location as string).searchParams;
    expect(q.get('prompt')).toBe('create');
    expect(q.get('ui_locales')).toBe('fr');
    const done = await agent.get(localPath(await op.authorize(res.headers.location as string))).expect(302);
    expect(done.headers.location).toBe('/welcome');
    expect((await agent.get('/bad')).status).toBe(500);
  });

  it('step-up: requireAuth({ acrValues }) logs in again asking for the acr, and checks it on return', async () => {
    const rp = createRp(adapter, { issuer: op.issuer }, [{ method: 'get', path: '/transfer', guard: { acrValues: 'mfa' }, handler: ok }]);
    const agent = await login(rp, { acr: 'pwd' });
    const api = await agent.get('/transfer').set('Accept', 'application/json');
    expect(api.status).toBe(401);
    expect(api.headers['www-authenticate']).toContain('error="insufficient_user_authentication"');
    expect(api.headers['www-authenticate']).toContain('acr_values="mfa"');
    const page = await agent.get('/transfer').set('Accept', 'text/html').expect(302);
    expect(new URL(page.headers.location as string).searchParams.get('acr_values')).toBe('mfa');
    op.behaviour.idToken = { claims: { acr: 'pwd' } };
    const weak = await agent.get(localPath(await op.authorize(page.headers.location as string)));
    expect(weak.status).toBe(403);
    expect(weak.body.error).toBe('ERR_OIDC_STEP_UP_FAILED');
    const retry = await agent.get('/transfer').set('Accept', 'text/html').expect(302);
    op.behaviour.idToken = { claims: { acr: 'mfa' } };
    const strong = await agent.get(localPath(await op.authorize(retry.headers.location as string))).expect(302);
    expect(strong.headers.location).toBe('/transfer');
    await agent.get('/transfer').expect(200);
  });

  it('step-up: requireAuth({ maxAge }) asks for a fresh login when auth_time is too old', async () => {
    const rp = createRp(adapter, { issuer: op.issuer }, [{ method: 'get', path: '/sensitive', guard: { maxAge: 300 }, handler: ok }]);
    const agent = await login(rp, { auth_time: Math.floor(Date.now() / 1000) - 3600 });
    const page = await agent.get('/sensitive').set('Accept', 'text/html').expect(302);
    expect(new URL(page.headers.location as string).searchParams.get('max_age')).toBe('300');
    op.behaviour.idToken = { claims: { auth_time: Math.floor(Date.now() / 1000) } };
    await agent.get(localPath(await op.authorize(page.headers.location as string))).expect(302);
    await agent.get('/sensitive').expect(200);
  });

  it('silent login tries prompt=none once; login_required ends quietly as logged out, never a loop', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, attemptSilentLogin: true });
    const agent = request.agent(rp.app);
    const first = await agent.get('/?page=1').set('Accept', 'text/html').expect(302);
    expect(new URL(first.headers.location as string).searchParams.get('prompt')).toBe('none');
    op.behaviour.authorizeError = { error: 'login_required' };
    const back = await agent.get(localPath(await op.authorize(first.headers.location as string)));
    expect(back.status).toBe(302);
    expect(back.headers.location).toBe('/?page=1');
    const again = await agent.get('/?page=1').set('Accept', 'text/html');
    expect(again.status).toBe(200);
    expect(again.body.user).toBeNull();
    expect((await agent.get('/api/me').set('Accept', 'application/json')).status).toBe(401);
  });

  it('silent login succeeds quietly when the IdP still has a session', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, attemptSilentLogin: true });
    const agent = request.agent(rp.app);
    const first = await agent.get('/').set('Accept', 'text/html').expect(302);
    await agent.get(localPath(await op.authorize(first.headers.location as string))).expect(302);
    expect((await agent.get('/').set('Accept', 'text/html')).body.user.sub).toBe('user-1');
  });

  it('client_secret_post sends the secret in the body', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, clientAuthMethod: 'client_secret_post' });
    await login(rp);
    expect(op.tokenCalls.at(-1)?.clientAuth).toBe('client_secret_post');
  });
});
