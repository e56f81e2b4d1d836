import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIdp, loginAs } from 'oidc-session/testing';
import { startExampleApp } from '../../example-app/app.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { ExampleApp } from '../../example-app/app.js';

// The example app over HTTP, logged in with loginAs() (the real flow against its embedded dev IdP).
// The real-browser tour is in test/browser/.
describe('example app', () => {
  let app: ExampleApp;
  let idp: NonNullable<ExampleApp['devIdp']>;
  beforeAll(async () => {
    app = await startExampleApp({ port: 0 });
    if (!app.devIdp) throw new Error('expected the embedded dev IdP');
    idp = app.devIdp;
  });
  afterAll(() => app.close());

  it('says what it runs against', () => {
    expect(app.summary[0]).toBe(`oidc-session example app: ${app.url}`);
    expect(app.summary[1]).toContain(`embedded dev IdP at ${idp.issuer}; log in as alice / alice (admin), bob / bob (user)`);
    expect(app.summary[2]).toContain('in memory');
  });

  it('shows the public home page logged out, with the dev users, and never lets it be cached', async () => {
    const res = await request(app.url).get('/').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.text).toContain('You are not logged in.');
    expect(res.text).toContain('alice / alice (admin), bob / bob (user)');
  });

  it('sends a visit on another host name to the base URL, where the session cookie lives', async () => {
    const res = await request(app.url).get('/profile?x=1').set('Host', `localhost:${new URL(app.url).port}`).expect(302);
    expect(res.headers.location).toBe(`${app.url}/profile?x=1`);
  });

  it('shows alice her claims, her tokens, the admin page and the API call', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, 'alice');
    const home = await agent.get('/').expect(200);
    expect(home.text).toContain('You are logged in as <strong>Alice Admin</strong> (alice@example.test)');
    const profile = await agent.get('/profile').expect(200);
    // The dev IdP releases email at userinfo only; name comes in the ID token.
    expect(profile.text).toMatch(/<code>email<\/code><\/td><td>alice@example.test<\/td><td><span class="tag userinfo">userinfo<\/span>/);
    expect(profile.text).toMatch(/<code>name<\/code><\/td><td>Alice Admin<\/td><td><span class="tag">ID token<\/span>/);
    expect(profile.text).toContain('id="userinfo-note"');
    expect(profile.text).toMatch(/<code>nonce<\/code>.*ID token \(protocol\)/);
    const tokens = await agent.get('/tokens').expect(200);
    expect(tokens.text).toContain('id="access-opaque"');
    expect(tokens.text).toContain('&quot;alg&quot;: &quot;RS256&quot;');
    expect(tokens.text).toContain('id="refresh"');
    await agent.get('/admin').expect(200, /you have the <code>admin<\/code> role/);
    const api = await agent.get('/api').expect(200);
    expect(api.text).toContain('<strong id="api-status">200</strong>');
    expect(api.text).toContain('&quot;requestedBy&quot;: &quot;alice&quot;');
  });

  it('answers bob with a 403 page on the admin page, not a login', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, 'bob');
    const res = await agent.get('/admin').set('Accept', 'text/html').expect(403);
    expect(res.text).toContain('Sorry Bob User, you may not open this page.');
    expect(res.text).toContain('Access denied: requires one of the roles admin.');
  });

  it('refreshes the tokens on request', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, 'alice');
    const fingerprint = async () => /id="access-fingerprint">([0-9a-f]+)</.exec((await agent.get('/tokens')).text)?.[1];
    const before = await fingerprint();
    idp.resetCounters();
    await agent.post('/tokens/refresh').set('Origin', app.url).expect(303).expect('Location', '/tokens?refreshed=1');
    expect(idp.counters.token).toBe(1);
    expect(await fingerprint()).not.toBe(before);
  });

  it('escapes what the IdP says about the user', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, { claims: { name: '<img src=x onerror=alert(1)>', email: '"><script>alert(1)</script>' } });
    const home = await agent.get('/').expect(200);
    expect(home.text).not.toContain('<img src=x');
    expect(home.text).not.toContain('<script>alert(1)');
    expect(home.text).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const profile = await agent.get('/profile').expect(200);
    expect(profile.text).toContain('&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('logs out locally, or at the IdP too', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, 'alice');
    await agent.post('/logout').set('Origin', app.url).expect(303).expect('Location', `${app.url}/`);
    await agent.get('/api/me').expect(401);
    await loginAs(agent, idp, 'alice');
    const out = await agent.post('/logout/idp').set('Origin', app.url).expect(303);
    expect(out.headers.location).toMatch(new RegExp(`^${idp.issuer}/session/end\\?`));
    await agent.get('/api/me').expect(401);
  });

  it('answers the API with JSON: 401 logged out, 404 for unknown routes', async () => {
    const res = await request(app.url).get('/api/things').set('Accept', 'application/json').expect(401);
    expect(res.body.error).toBe('ERR_OIDC_UNAUTHENTICATED');
    await request(app.url).get('/api/nothing').expect(404);
    await request(app.url).get('/nowhere').expect(404, /There is no page at <code>\/nowhere<\/code>/);
  });

  it('keeps the error\'s headers: a refused bearer token gets its WWW-Authenticate challenge (issue 17)', async () => {
    const res = await request(app.url).get('/api/things').set('Authorization', 'Bearer not-a-token-of-this-idp').expect(401);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_TOKEN');
    expect(res.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
  });
});

describe('example app against another IdP (what OIDC_ISSUER & co. select)', () => {
  it('uses the given issuer, client and roles claim, and says so', async () => {
    const baseUrl = 'http://127.0.0.1:3999';
    const idp = await createTestIdp({
      clients: [{ client_id: 'real-app', client_secret: 'real-secret', redirect_uris: [`${baseUrl}/callback`] }],
      users: [{ username: 'carol', password: 'pw', claims: { name: 'Carol', roles: { app: ['admin'] } } }],
    });
    const app = await startExampleApp({
      port: 0,
      baseUrl,
      idp: { issuer: idp.issuer, clientId: 'real-app', clientSecret: 'real-secret', rolesClaim: 'roles.app', scope: 'openid profile' },
    });
    try {
      expect(app.devIdp).toBeUndefined();
      expect(app.summary).toContain(`  IdP:      ${idp.issuer} (client real-app)`);
      expect(app.summary[0]).toBe(`oidc-session example app: ${baseUrl} (listening on ${app.url})`);
      const agent = request.agent(app.url);
      await loginAs(agent, idp, 'carol');
      // no dev users to advertise, and the roles come from the nested `roles.app`
      expect((await agent.get('/').expect(200)).text).not.toContain('Dev IdP users');
      await agent.get('/admin').expect(200);
    } finally {
      await app.close();
      await idp.close();
    }
  });

  it('uses the client authentication method it is given (OIDC_CLIENT_AUTH_METHOD) at the token endpoint', async () => {
    const op = await startHostileOp({ clientId: 'post-app', clientSecret: 'post-secret' });
    op.behaviour.allowedClientAuth = ['client_secret_post'];
    const app = await startExampleApp({
      port: 0,
      idp: { issuer: op.issuer, clientId: 'post-app', clientSecret: 'post-secret', clientAuthMethod: 'client_secret_post' },
    });
    try {
      const agent = request.agent(app.url);
      const start = await agent.get('/login').expect(302);
      const callback = new URL(await op.authorize(start.headers.location as string));
      await agent.get(callback.pathname + callback.search).expect(302);
      expect(op.tokenCalls.map((call) => [call.clientAuth, call.result])).toEqual([['client_secret_post', 'ok']]);
      await agent.get('/profile').expect(200);
    } finally {
      await app.close();
      await op.close();
    }
  });

  it('fails at startup on a bad option, naming it', async () => {
    await expect(startExampleApp({ port: 0, idp: { issuer: 'http://idp.example.com', clientId: 'x' } }))
      .rejects.toThrow(/issuer/);
  });
});

describe('example app: the newcomer details of issue 13', () => {
  let app: ExampleApp;
  let idp: NonNullable<ExampleApp['devIdp']>;
  beforeAll(async () => {
    app = await startExampleApp({ port: 0 });
    if (!app.devIdp) throw new Error('expected the embedded dev IdP');
    idp = app.devIdp;
  });
  afterAll(() => app.close());

  it('answers /favicon.ico (no 404) and links an inline icon from every page', async () => {
    const icon = await request(app.url).get('/favicon.ico').expect(200);
    expect(icon.headers['content-type']).toContain('image/svg+xml');
    expect((await request(app.url).get('/').expect(200)).text).toContain('<link rel="icon" href="data:image/svg+xml,');
  });

  it('cleans the ?state= the IdP sends back after its logout out of the address bar', async () => {
    const res = await request(app.url).get('/?state=abc').expect(303);
    expect(res.headers.location).toBe('/?logged-out=idp');
  });

  it('names the guards of /api and of the API it calls', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, 'bob');
    const page = await agent.get('/api').expect(200);
    expect(page.text).toContain('This page is guarded by <code>auth.requireAuth()</code>');
    expect(page.text).toContain('<code>auth.requireAuth({ bearer: { audience, introspection } })</code>');
  });
});
