import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, createTestIdp, loginAs } from '../../lib/testing/index.js';
import type { TestIdp } from '../../lib/testing/index.js';
import { ADAPTERS, createRp, RP_BASE_URL } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';

const client = {
  client_id: 'rp',
  client_secret: 'rp-secret',
  redirect_uris: [`${RP_BASE_URL}/callback`],
  post_logout_redirect_uris: [`${RP_BASE_URL}/`],
};

describe.each(ADAPTERS)('loginAs (%s)', (adapter) => {
  let idp: TestIdp;
  let rp: RpApp;
  let formPostRp: RpApp;

  beforeAll(async () => {
    idp = await createTestIdp({ clients: [client] });
    rp = createRp(adapter, { issuer: idp.issuer });
    formPostRp = createRp(adapter, { issuer: idp.issuer, responseMode: 'form_post' });
  });
  afterAll(() => idp.close());

  it('logs a supertest agent in through the real flow, as a known user', async () => {
    const agent = request.agent(rp.app);
    idp.resetCounters();
    const result = await loginAs(agent, idp, 'alice');
    expect(result.location).toBe('/');
    expect(result.user).toMatchObject({ username: 'alice', sub: 'alice' });
    expect(idp.counters).toMatchObject({ authorization: 1, token: 1, userinfo: 1 });
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.user).toMatchObject({ sub: 'alice', iss: idp.issuer, roles: ['admin'] });
  });

  it('mints a user with exactly the claims a test needs', async () => {
    const agent = request.agent(rp.app);
    const result = await loginAs(agent, idp, { claims: { email: 'carol@example.test', roles: ['auditor'], department: 'finance' } });
    expect(result.user.sub).toMatch(/^user-/);
    expect(idp.users.map((u) => u.username)).toContain(result.user.username);
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.user).toMatchObject({ sub: result.user.sub, email: 'carol@example.test', roles: ['auditor'] });
    // the claims only come when the scope asks for them; `department` is not in any scope
    expect(me.body.user).not.toHaveProperty('department');
  });

  it('takes a chosen sub for a minted user, once', async () => {
    await loginAs(request.agent(rp.app), idp, { sub: 'dave', claims: { name: 'Dave' } });
    await expect(loginAs(request.agent(rp.app), idp, { sub: 'dave', claims: {} })).rejects.toThrow(/duplicate test user/);
  });

  it('returns the session cookie when given the app itself', async () => {
    const { cookie, location } = await loginAs(rp.app, idp, { username: 'bob', password: 'bob' }, { returnTo: '/profile' });
    expect(location).toBe('/profile');
    expect(cookie).toMatch(/^sid=/);
    const me = await request(rp.app).get('/api/me').set('Cookie', cookie).expect(200);
    expect(me.body.user.sub).toBe('bob');
    await request(rp.app).get('/api/me').expect(401);
  });

  it('logs in against the base URL of a running app', async () => {
    const server = createServer(rp.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { cookie } = await loginAs(base, idp, 'bob');
      const me = await fetch(`${base}/api/me`, { headers: { cookie } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { user: { sub: string } }).user.sub).toBe('bob');
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('delivers a form_post callback as a POST', async () => {
    const agent = request.agent(formPostRp.app);
    const result = await loginAs(agent, idp, 'alice');
    expect(result.location).toBe('/');
    await agent.get('/api/me').expect(200);
  });

  it('keeps the IdP session in the jar it is given (SSO on the second login)', async () => {
    const idpJar = new CookieJar();
    await loginAs(request.agent(rp.app), idp, 'alice', { idpJar });
    // the IdP does not ask again, so a wrong password does not matter now
    const again = await loginAs(request.agent(rp.app), idp, { username: 'alice', password: 'not-asked' }, { idpJar });
    expect(again.location).toBe('/');
  });

  it('fails with a clear message for an unknown user, a wrong password and a login route that is not one', async () => {
    await expect(loginAs(request.agent(rp.app), idp, 'mallory')).rejects.toThrow(/no user "mallory" \(it knows alice, bob/);
    await expect(loginAs(request.agent(rp.app), idp, { username: 'alice', password: 'wrong' })).rejects.toThrow(/login failed/);
    await expect(loginAs(request.agent(rp.app), idp, 'alice', { loginPath: '/' })).rejects.toThrow(/GET \/ answered 200, not a redirect to the test IdP/);
  });

  it('reports the app rejecting the callback', async () => {
    // an app that has a different client: the IdP answers, the app cannot redeem the code
    const other = createRp(adapter, { issuer: idp.issuer, clientSecret: 'wrong-secret' });
    await expect(loginAs(request.agent(other.app), idp, 'alice')).rejects.toThrow(/the app answered 502 to the callback \/callback/);
  });
});

describe('createTestIdp addUser', () => {
  it('adds users at runtime, lists them on the login page and refuses duplicates', async () => {
    const idp = await createTestIdp({ clients: [client] });
    try {
      const added = idp.addUser({ username: 'erin', password: 'pw', claims: { roles: ['editor'] } });
      expect(added).toEqual({ username: 'erin', password: 'pw', sub: 'erin', claims: { roles: ['editor'] } });
      expect(idp.users.map((u) => u.username)).toEqual(['alice', 'bob', 'erin']);
      expect(() => idp.addUser({ username: 'alice', password: 'x' })).toThrow(/duplicate test user alice/);
      expect(() => idp.addUser({ username: 'frank', password: 'x', sub: 'bob' })).toThrow(/duplicate test user frank \(sub bob\)/);
      expect(() => idp.addUser({ username: '', password: 'x' })).toThrow(/username must be a non-empty string/);
      const rp = createRp('express5', { issuer: idp.issuer });
      const start = await request(rp.app).get('/login').expect(302);
      const jar = new CookieJar();
      const authorize = await fetch(start.headers.location as string, { redirect: 'manual' });
      jar.capture(authorize.url, authorize);
      const interaction = new URL(authorize.headers.get('location') as string, idp.issuer);
      const page = await fetch(interaction, { headers: { cookie: jar.header(interaction) } }).then((r) => r.text());
      expect(page).toContain('erin / pw (editor)');
      // the copy handed out is not the IdP's own record
      (idp.users[0]?.claims as Record<string, unknown>).roles = ['root'];
      expect(idp.users[0]?.claims?.roles).toEqual(['admin']);
    } finally {
      await idp.close();
    }
  });
});
