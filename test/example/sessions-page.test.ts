import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from 'oidc-session/testing';
import { startExampleApp } from '../../example-app/app.js';
import type { ExampleApp } from '../../example-app/app.js';

// The example app's sessions page: the user's sessions, ending one, and "log out everywhere".
describe('example app: sessions page', () => {
  let app: ExampleApp;
  let idp: NonNullable<ExampleApp['devIdp']>;
  beforeAll(async () => {
    app = await startExampleApp({ port: 0 });
    if (!app.devIdp) throw new Error('expected the embedded dev IdP');
    idp = app.devIdp;
  });
  afterAll(() => app.close());

  it('lists the sessions (this browser marked), ends another one, and logs out everywhere', async () => {
    const [laptop, phone, tablet] = [request.agent(app.url), request.agent(app.url), request.agent(app.url)];
    for (const agent of [laptop, phone, tablet]) await loginAs(agent, idp, 'alice');
    const bob = request.agent(app.url);
    await loginAs(bob, idp, 'bob');
    const page = await laptop.get('/sessions').expect(200);
    expect(page.text).toContain('You are logged in to this app in 3 sessions.');
    expect(page.text.match(/this browser/g)).toHaveLength(1);
    expect(page.text).not.toMatch(/eyJ/);
    const ids = [...page.text.matchAll(/name="id" value="([^"]+)"/g)].map((m) => m[1] as string);
    expect(ids).toHaveLength(2);
    await laptop.post('/sessions/end').type('form').send({ id: ids[0] }).expect(303).expect('Location', '/sessions');
    expect((await laptop.get('/sessions')).text).toContain('in 2 sessions.');
    // Bob's form with one of alice's session ids ends nothing.
    await bob.post('/sessions/end').type('form').send({ id: ids[1] }).expect(303);
    expect((await laptop.get('/sessions')).text).toContain('in 2 sessions.');
    const done = await laptop.post('/sessions/logout-everywhere').expect(303);
    expect(done.headers.location).toBe('/');
    for (const agent of [laptop, phone, tablet]) {
      await agent.get('/sessions').set('Accept', 'text/html').expect(302);
    }
    expect((await bob.get('/sessions').expect(200)).text).toContain('in 1 session.');
  });

  it('logs out everywhere and at the IdP: redirects to the end-session endpoint', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, 'alice');
    const res = await agent.post('/sessions/logout-everywhere?idp=1').expect(303);
    expect(res.headers.location?.startsWith(idp.issuer)).toBe(true);
    expect(new URL(res.headers.location as string).searchParams.get('id_token_hint')).toBeTruthy();
  });

  it('refuses a cross-site "log out everywhere"', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, idp, 'alice');
    await agent.post('/sessions/logout-everywhere').set('Sec-Fetch-Site', 'cross-site').set('Accept', 'text/html').expect(403);
    expect((await agent.get('/sessions').expect(200)).text).toContain('in 1 session.');
  });
});

describe('example app: the API page with DPoP', () => {
  let app: ExampleApp;
  beforeAll(async () => {
    app = await startExampleApp({ port: 0 });
  });
  afterAll(() => app.close());

  it('calls the DPoP-only API with the session\'s bound token and a proof; without a proof that API refuses it', async () => {
    const agent = request.agent(app.url);
    await loginAs(agent, app.devIdp!, 'alice');
    const page = await agent.get('/api').expect(200);
    expect(page.text).toContain('<code id="api-scheme">Authorization: DPoP &lt;your access token&gt;</code>');
    expect(page.text).toContain('GET /api/dpop/things');
    expect(page.text).toContain('<strong id="api-status">200</strong>');
    expect(page.text).toContain('&quot;via&quot;: &quot;DPoP token&quot;');
    expect(page.text).toContain('&quot;requestedBy&quot;: &quot;alice&quot;');
    const anonymous = await request(app.url).get('/api/dpop/things').set('Authorization', 'Bearer nope').expect(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^DPoP /);
  });

  it('with dpop: false the page uses a Bearer token on the ordinary API', async () => {
    const plain = await startExampleApp({ port: 0, dpop: false });
    try {
      const agent = request.agent(plain.url);
      await loginAs(agent, plain.devIdp!, 'alice');
      const page = await agent.get('/api').expect(200);
      expect(page.text).toContain('Authorization: Bearer &lt;your access token&gt;');
      expect(page.text).toContain('<strong id="api-status">200</strong>');
      expect(page.text).toContain('&quot;via&quot;: &quot;Bearer token&quot;');
    } finally {
      await plain.close();
    }
  });
});
