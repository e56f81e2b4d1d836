import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, createTestIdp, loginAs } from '../../lib/testing/index.js';
import type { TestIdp } from '../../lib/testing/index.js';
import { ADAPTERS, createRp, RP_BASE_URL } from '../helpers/rp-app.js';
import type { Adapter, RpApp } from '../helpers/rp-app.js';

// res.oidc.logout() / ctx.state.oidc.logout(): the logout route's behaviour from the app's own routes,
// e.g. one button that ends only the local session and one that also ends the session at the IdP.
function appWithLogoutRoutes(idp: TestIdp, adapter: Adapter): RpApp {
  return createRp(adapter, { issuer: idp.issuer }, [
    { method: 'post', path: '/logout/idp', handler: ({ logout }) => logout({ idpLogout: true }) },
    { method: 'post', path: '/logout/here', handler: ({ logout }) => logout({ returnTo: '/goodbye' }) },
  ]);
}

describe.each(ADAPTERS)('logout from an app route: res.oidc.logout() / ctx.state.oidc.logout() (%s)', (adapter) => {
  let idp: TestIdp;
  let rp: RpApp;
  beforeAll(async () => {
    idp = await createTestIdp({
      clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [`${RP_BASE_URL}/callback`], post_logout_redirect_uris: [`${RP_BASE_URL}/`] }],
    });
    rp = appWithLogoutRoutes(idp, adapter);
  });
  afterAll(() => idp.close());

  it('ends the session at the IdP on request, though the idpLogout option is off', async () => {
    const agent = request.agent(rp.app);
    const idpJar = new CookieJar();
    await loginAs(agent, idp, 'alice', { idpJar });
    idp.resetCounters();
    const out = await agent.post('/logout/idp').set('Origin', RP_BASE_URL).expect(303);
    const endSession = new URL(out.headers.location as string);
    expect(endSession.href.startsWith(idp.issuer)).toBe(true);
    expect(endSession.searchParams.get('post_logout_redirect_uri')).toBe(`${RP_BASE_URL}/`);
    expect(endSession.searchParams.get('id_token_hint')).toBeTruthy();
    await expect.poll(() => idp.counters.revocation).toBe(2);
    await agent.get('/api/me').expect(401);
    const back = await idp.logout(endSession, idpJar);
    expect(back.url.startsWith(`${RP_BASE_URL}/`)).toBe(true);
    // the IdP session is gone: logging in again needs the password
    await expect(loginAs(agent, idp, { username: 'alice', password: 'wrong' }, { idpJar })).rejects.toThrow(/login failed/);
  });

  it('ends only the local session and lands on returnTo', async () => {
    const agent = request.agent(rp.app);
    await loginAs(agent, idp, 'bob');
    const out = await agent.post('/logout/here').expect(303);
    expect(out.headers.location).toBe('/goodbye');
    await agent.get('/api/me').expect(401);
    const logins = Object.values(await rp.sessions()).filter((s) => (s.oidc as { auth?: unknown } | undefined)?.auth);
    expect(logins).toHaveLength(0);
  });

  it('refuses a cross-site logout like the logout route does', async () => {
    const agent = request.agent(rp.app);
    await loginAs(agent, idp, 'bob');
    const res = await agent.post('/logout/idp').set('Origin', 'https://evil.example').expect(403);
    expect(res.body.error).toBe('ERR_OIDC_CROSS_SITE_REQUEST');
    await agent.get('/api/me').expect(200);
  });
});
