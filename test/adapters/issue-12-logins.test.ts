/**
 * Issue 12, defects 5, 7 and 11 (login side), on Express 5, Express 4 and Koa, with a browser modelled
 * as Chromium sends it (test/helpers/browser-navigation.ts).
 */
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { navigate, scriptFetch, submitForm } from '../helpers/browser-navigation.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import { TestBrowser } from '../helpers/test-browser.js';
import type { RpApp } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());
afterEach(() => {
  vi.useRealTimers();
});

const TTL_SEC = 60;

/** Follows a redirect to the OP and back: the callback's answer (a redirect onwards). */
async function throughIdp(agent: request.Agent, location: string): Promise<request.Response> {
  return navigate(agent.get(localPath(await op.authorize(location))), { userActivated: false }).expect(302);
}

async function pageUser(agent: request.Agent): Promise<unknown> {
  const page = await navigate(agent.get('/'));
  expect(page.status).toBe(200);
  return (page.body as { user: { sub?: string } | null }).user?.sub ?? null;
}

describe.each(ADAPTERS)('issue 12 (%s)', (adapter) => {
  describe('defect 5: attemptSilentLogin does not undo a logout', () => {
    let rp: RpApp;
    beforeEach(() => {
      rp = createRp(adapter, { issuer: op.issuer, attemptSilentLogin: true });
    });

    it('after POST /logout the next page view stays logged out (no prompt=none) until the user asks to log in', async () => {
      const agent = request.agent(rp.app);
      const silent = await navigate(agent.get('/'), { site: 'none' }).expect(302);
      expect(new URL(silent.headers.location as string).searchParams.get('prompt')).toBe('none');
      await throughIdp(agent, silent.headers.location as string);
      expect(await pageUser(agent)).toBe('user-1');

      await submitForm(agent.post('/logout')).expect(303);
      const authorizations = op.counters.authorization;
      expect(await pageUser(agent)).toBeNull();
      expect(await pageUser(agent)).toBeNull();
      expect(op.counters.authorization).toBe(authorizations);

      // Asking to log in (a guarded page, or /login) is an ordinary login, and the next logout holds too.
      const ask = await navigate(agent.get('/profile')).expect(302);
      expect(new URL(ask.headers.location as string).searchParams.has('prompt')).toBe(false);
      await throughIdp(agent, ask.headers.location as string);
      expect(await pageUser(agent)).toBe('user-1');
      await submitForm(agent.post('/logout')).expect(303);
      expect(await pageUser(agent)).toBeNull();
    });

    it('coming back from another site after the logout (a link, the IdP page) is no silent login either', async () => {
      const browser = new TestBrowser(rp.app);
      const silent = await browser.get('/', 'none');
      expect(silent.status).toBe(302);
      // The IdP sends the browser back: a cross-site navigation, which carries the (Lax by default) session cookie.
      const back = await browser.get(localPath(await op.authorize(silent.headers.location as string)), 'cross-site');
      expect(back.status).toBe(302);
      expect((await browser.get('/')).body.user.sub).toBe('user-1');
      expect((await browser.submit('/logout')).status).toBe(303);
      const fromLink = await browser.get('/', 'cross-site');
      expect(fromLink.status).toBe(200);
      expect(fromLink.body.user).toBeNull();
    });

    it('a browser that never logged in still gets its one silent attempt', async () => {
      const fresh = await navigate(request(rp.app).get('/'), { site: 'none' }).expect(302);
      expect(new URL(fresh.headers.location as string).searchParams.get('prompt')).toBe('none');
    });
  });

  describe('defect 7: a session holding only pending logins leaves the store with them', () => {
    it('cookie-less /login, the silent-login marker: gone after transactionTtl; logins and app data keep their lifetime', async () => {
      const rp = createRp(adapter, { issuer: op.issuer, transactionTtl: TTL_SEC, attemptSilentLogin: true }, [
        {
          method: 'get',
          path: '/cart',
          handler: (view) => {
            view.session.cart = 'book';
            return { ok: true };
          },
        },
      ]);
      const longReturnTo = '/' + 'a'.repeat(1500);
      for (let i = 0; i < 3; i++) await request(rp.app).get('/login').query({ returnTo: longReturnTo }).expect(302);
      // A visitor whose silent login comes back "login_required": only the marker is left.
      op.behaviour.authorizeError = { error: 'login_required' };
      const visitor = request.agent(rp.app);
      const silent = await navigate(visitor.get('/'), { site: 'none' }).expect(302);
      await throughIdp(visitor, silent.headers.location as string);
      op.behaviour.authorizeError = undefined;
      // A shopper with a cart who starts a login: the app's data is not ours to expire.
      const shopper = request.agent(rp.app);
      await scriptFetch(shopper.get('/cart')).expect(200);
      await navigate(shopper.get('/login')).expect(302);
      // One who starts a login, gives up and shops: once the app's data is there, the app's lifetime is back.
      const lateShopper = request.agent(rp.app);
      await navigate(lateShopper.get('/login')).expect(302);
      await scriptFetch(lateShopper.get('/cart')).expect(200);
      await scriptFetch(lateShopper.get('/')).expect(200);
      // A user who logged in from a cookie-less start: the login gets the app's lifetime back.
      const user = request.agent(rp.app);
      const start = await navigate(user.get('/login')).expect(302);
      await throughIdp(user, start.headers.location as string);
      expect(Object.keys(await rp.sessions())).toHaveLength(7);

      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + (TTL_SEC + 15) * 1000 });
      const left = Object.values(await rp.sessions()) as Array<{ cart?: string; oidc?: { auth?: { sub: string } } }>;
      expect(left).toHaveLength(3);
      expect(left.filter((s) => s.cart === 'book')).toHaveLength(2);
      expect(left.filter((s) => s.oidc?.auth?.sub === 'user-1')).toHaveLength(1);
      await user.get('/api/me').set('Accept', 'application/json').expect(200);
      const again = await scriptFetch(lateShopper.get('/cart')).expect(200);
      expect(again.headers['set-cookie']).toBeUndefined();
    });
  });

  describe("defect 11: a guarded page's own query is not a login request", () => {
    let rp: RpApp;
    beforeEach(() => {
      rp = createRp(adapter, { issuer: op.issuer });
    });

    it('/profile?prompt=login&login_hint=x logs in without forwarding prompt or login_hint, and comes back to the page', async () => {
      const agent = request.agent(rp.app);
      const res = await navigate(agent.get('/profile?prompt=login&login_hint=x&provider=other&returnTo=/elsewhere')).expect(302);
      const q = new URL(res.headers.location as string).searchParams;
      expect(q.has('prompt')).toBe(false);
      expect(q.has('login_hint')).toBe(false);
      const back = await throughIdp(agent, res.headers.location as string);
      expect(back.headers.location).toBe('/profile?prompt=login&login_hint=x&provider=other&returnTo=/elsewhere');
    });

    it('/profile?prompt=a&prompt=b answers with a login, not 400', async () => {
      const res = await navigate(request(rp.app).get('/profile?prompt=a&prompt=b')).expect(302);
      expect(new URL(res.headers.location as string).origin).toBe(op.issuer);
    });

    it('GET /login still forwards its allow-listed parameters', async () => {
      const res = await navigate(request(rp.app).get('/login?prompt=login&login_hint=x')).expect(302);
      const q = new URL(res.headers.location as string).searchParams;
      expect([q.get('prompt'), q.get('login_hint')]).toEqual(['login', 'x']);
    });
  });
});
