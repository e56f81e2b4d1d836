import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar } from '../../lib/testing/index.js';
import { startLiveRp } from '../helpers/live-rp.js';
import type { LiveRp } from '../helpers/live-rp.js';
import { ADAPTERS, localPath } from '../helpers/rp-app.js';

let rp: LiveRp | undefined;
afterEach(async () => {
  await rp?.close();
  rp = undefined;
});

async function login(live: LiveRp, agent: request.Agent, path = '/login', user = 'alice', jar = new CookieJar()) {
  const start = await agent.get(path).set('Accept', 'text/html').expect(302);
  const back = await live.idp.login(start.headers.location as string, { username: user, password: user }, jar);
  expect(back.method).toBe('GET');
  return agent.get(localPath(back.url));
}

describe.each(ADAPTERS)('end to end against oidc-provider (%s)', (adapter) => {
  it('logs in, merges userinfo into req.user, and calls the IdP only at login', async () => {
    rp = await startLiveRp({}, {}, adapter);
    const agent = request.agent(rp.baseUrl);
    const done = await login(rp, agent);
    expect(done.status).toBe(302);
    expect(done.headers.location).toBe('/');
    rp.idp.resetCounters();
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.user).toMatchObject({ sub: 'alice', iss: rp.idp.issuer, name: expect.any(String), email: 'alice@example.test', roles: ['admin'] });
    expect(me.body.user).not.toHaveProperty('nonce');
    for (let i = 0; i < 5; i++) await agent.get('/profile').expect(200);
    expect(Object.values(rp.idp.counters).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('returns to the page the browser asked for', async () => {
    rp = await startLiveRp({}, {}, adapter);
    const agent = request.agent(rp.baseUrl);
    const done = await login(rp, agent, '/profile?tab=settings');
    expect(done.headers.location).toBe('/profile?tab=settings');
  });

  it('regenerates the session id at login', async () => {
    rp = await startLiveRp({}, {}, adapter);
    const agent = request.agent(rp.baseUrl);
    const start = await agent.get('/login').expect(302);
    const anonymousId = Object.keys(await rp.sessions())[0];
    const back = await rp.idp.login(start.headers.location as string, { username: 'bob', password: 'bob' });
    await agent.get(localPath(back.url)).expect(302);
    const ids = Object.keys(await rp.sessions());
    expect(ids).toHaveLength(1);
    expect(ids[0]).not.toBe(anonymousId);
  });

  it('completes two logins started in two tabs, in reverse order', async () => {
    rp = await startLiveRp({}, {}, adapter);
    const agent = request.agent(rp.baseUrl);
    const jar = new CookieJar();
    const tab1 = await agent.get('/login?returnTo=/one').expect(302);
    const tab2 = await agent.get('/login?returnTo=/two').expect(302);
    const back1 = await rp.idp.login(tab1.headers.location as string, { username: 'alice', password: 'alice' }, jar);
    const back2 = await rp.idp.login(tab2.headers.location as string, { username: 'alice', password: 'alice' }, jar);
    expect((await agent.get(localPath(back2.url))).headers.location).toBe('/two');
    expect((await agent.get(localPath(back1.url))).headers.location).toBe('/one');
    await agent.get('/api/me').expect(200);
  });

  it('answers 401 JSON to APIs and a login redirect to browsers', async () => {
    rp = await startLiveRp({}, {}, adapter);
    const api = await request(rp.baseUrl).get('/api/me').set('Accept', 'application/json');
    expect(api.status).toBe(401);
    expect(api.headers['www-authenticate']).toBeDefined();
    const page = await request(rp.baseUrl).get('/profile').set('Accept', 'text/html');
    expect(page.status).toBe(302);
    expect(page.headers.location?.startsWith(rp.idp.issuer)).toBe(true);
  });

  it('logs out locally: the old cookie is anonymous and the store record is gone', async () => {
    rp = await startLiveRp({}, {}, adapter);
    const agent = request.agent(rp.baseUrl);
    await login(rp, agent);
    await agent.get('/logout').expect(302);
    await agent.get('/api/me').expect(401);
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
  });

  it('logs out at the IdP too (RP-initiated logout), revoking the tokens', async () => {
    rp = await startLiveRp({ idpLogout: true }, {}, adapter);
    const agent = request.agent(rp.baseUrl);
    const jar = new CookieJar();
    await login(rp, agent, '/login', 'alice', jar);
    const out = await agent.get('/logout').expect(302);
    expect(out.headers.location?.startsWith(rp.idp.issuer)).toBe(true);
    const back = await rp.idp.logout(out.headers.location as string, jar);
    expect(back.url.startsWith(rp.baseUrl + '/?')).toBe(true);
    const idp = rp.idp;
    await expect.poll(() => idp.counters.revocation).toBe(2);
    await agent.get('/api/me').expect(401);
    // the IdP session is over too: the next login asks for credentials again
    const start = await agent.get('/login').expect(302);
    await expect(rp.idp.login(start.headers.location as string, { username: 'alice', password: 'wrong' }, jar)).rejects.toThrow(/login failed/);
  });

  it('refreshes with the real IdP (rotation on) and keeps working', async () => {
    rp = await startLiveRp({}, { accessTokenTtl: 2 }, adapter);
    const agent = request.agent(rp.baseUrl);
    await login(rp, agent);
    const before = (Object.values(await rp.sessions())[0] as { oidc: { auth: { accessToken: string; refreshToken: string } } }).oidc.auth;
    await new Promise((resolve) => setTimeout(resolve, 2100));
    rp.idp.resetCounters();
    await agent.get('/api/me').expect(200);
    const after = (Object.values(await rp.sessions())[0] as { oidc: { auth: { accessToken: string; refreshToken: string } } }).oidc.auth;
    expect(rp.idp.counters.token).toBe(1);
    expect(after.accessToken).not.toBe(before.accessToken);
    expect(after.refreshToken).not.toBe(before.refreshToken);
  });

  it('ends the RP session when the IdP session ends (back-channel logout)', async () => {
    rp = await startLiveRp({ backchannelLogout: true }, {}, adapter);
    const agent = request.agent(rp.baseUrl);
    const jar = new CookieJar();
    await login(rp, agent, '/login', 'alice', jar);
    const other = request.agent(rp.baseUrl);
    await login(rp, other, '/login', 'bob');
    const idToken = (Object.values(await rp.sessions()).find((s) => JSON.stringify(s).includes('"sub":"alice"')) as { oidc: { auth: { idToken: string } } }).oidc.auth.idToken;
    const endSession = new URL(rp.idp.issuer + '/session/end');
    endSession.searchParams.set('id_token_hint', idToken);
    await rp.idp.logout(endSession, jar);
    expect(rp.idp.counters.backchannel).toBeGreaterThanOrEqual(1);
    await agent.get('/api/me').expect(401);
    await other.get('/api/me').expect(200);
  });
});
