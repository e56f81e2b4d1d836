import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { MemorySessionIndex } from '../../lib/express/index.js';
import type { SessionsApi } from '../../lib/express/index.js';
import { startLiveRp } from '../helpers/live-rp.js';
import type { LiveRp } from '../helpers/live-rp.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpOptions, TestRoute } from '../helpers/rp-app.js';

// auth.sessions.list/destroy and req.oidc.logoutEverywhere() against oidc-provider, for every adapter.
const ROUTES: TestRoute[] = [
  { method: 'get', path: '/my-sessions', handler: async ({ oidc }) => ({ sessions: await oidc?.listSessions() }) },
  {
    method: 'post',
    path: '/logout-everywhere',
    handler: async ({ oidc, query }) => oidc?.logoutEverywhere(query.idp ? { idpLogout: true } : {}),
  },
];

let rp: LiveRp | undefined;
afterEach(async () => {
  await rp?.close();
  rp = undefined;
});

const sessionsOf = (live: LiveRp): SessionsApi => (live.auth as unknown as { sessions: SessionsApi }).sessions;

async function start(adapter: Adapter, options: RpOptions = {}) {
  const loggedOut: Array<{ sub: unknown; provider: unknown; hasReq: boolean }> = [];
  rp = await startLiveRp(
    {
      onLogout: ({ user, provider, req }) => {
        loggedOut.push({ sub: user?.sub, provider, hasReq: req !== undefined });
      },
      ...options,
    },
    {},
    adapter,
    ROUTES,
  );
  const live = rp;
  const login = async (user: string) => {
    const agent = request.agent(live.baseUrl);
    const begin = await agent.get('/login').set('Accept', 'text/html').expect(302);
    const back = await live.idp.login(begin.headers.location as string, { username: user, password: user });
    await agent.get(localPath(back.url)).expect(302);
    return agent;
  };
  return { live, login, loggedOut };
}

describe.each(ADAPTERS)('sessions of a user (%s)', (adapter) => {
  it('listSessions() and auth.sessions.list(): every session of the user, newest first, no tokens', async () => {
    const { live, login } = await start(adapter);
    const [a1, a2, a3] = [await login('alice'), await login('alice'), await login('alice')];
    await login('bob');
    const mine = (await a2.get('/my-sessions').expect(200)).body.sessions as Array<Record<string, unknown>>;
    expect(mine).toHaveLength(3);
    expect(mine.filter((s) => s.current)).toHaveLength(1);
    const ids = Object.keys(await live.sessions());
    for (const s of mine) {
      expect(ids).toContain(s.id);
      expect(s).toMatchObject({ provider: 'default', createdAt: expect.any(Number), expiresAt: expect.any(Number) });
      expect(s.expiresAt).toBe((s.createdAt as number) + 7 * 86400);
      // lastLoginAt is the ID token's auth_time, which oidc-provider sends only when asked (max_age, require_auth_time)
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'provider', ...(s.current ? ['current'] : [])].sort());
    }
    const listed = await sessionsOf(live).list({ sub: 'alice', iss: live.idp.issuer });
    expect(listed.map((s) => s.id).sort()).toEqual(mine.map((s) => s.id).sort());
    expect(listed.every((s, i) => i === 0 || (listed[i - 1] as { createdAt: number }).createdAt >= s.createdAt)).toBe(true);
    expect(await sessionsOf(live).list({ sub: 'bob', iss: live.idp.issuer })).toHaveLength(1);
    expect(await sessionsOf(live).list({ sub: 'alice', iss: 'https://other.example' })).toEqual([]);
    for (const agent of [a1, a3]) await agent.get('/api/me').expect(200);
  });

  it('logoutEverywhere(): every session of this user ends (onLogout and revocation for each); others stay', async () => {
    const { live, login, loggedOut } = await start(adapter);
    const alice = [await login('alice'), await login('alice'), await login('alice')];
    const bob = await login('bob');
    live.idp.resetCounters();
    const res = await (alice[0] as request.Agent).post('/logout-everywhere').expect(200);
    expect(res.body).toEqual({ destroyed: 3 });
    for (const agent of alice) await agent.get('/api/me').expect(401);
    await bob.get('/api/me').expect(200);
    expect(loggedOut).toEqual(Array(3).fill({ sub: 'alice', provider: 'default', hasReq: true }));
    // refresh token and access token of each session
    expect(live.idp.counters.revocation).toBe(6);
    const left = Object.values(await live.sessions()).map((s) => JSON.stringify(s));
    expect(left.filter((s) => s.includes('"sub":"alice"'))).toEqual([]);
    expect(await sessionsOf(live).list({ sub: 'alice', iss: live.idp.issuer })).toEqual([]);
  });

  it('logoutEverywhere({ idpLogout: true }) returns the IdP end-session URL with the ID token hint', async () => {
    const { live, login } = await start(adapter);
    const agent = await login('alice');
    const res = await agent.post('/logout-everywhere?idp=1').expect(200);
    const url = new URL(res.body.idpLogoutUrl);
    expect(url.href.startsWith(live.idp.issuer)).toBe(true);
    expect(url.searchParams.get('id_token_hint')).toBeTruthy();
    expect(res.body.destroyed).toBe(1);
  });

  it('refuses a cross-site request and a logged-out one, ending nothing', async () => {
    const { live, login, loggedOut } = await start(adapter);
    const agent = await login('alice');
    const cross = await agent.post('/logout-everywhere').set('Sec-Fetch-Site', 'cross-site').expect(403);
    expect(cross.body.error).toBe('ERR_OIDC_CROSS_SITE_REQUEST');
    const foreign = await agent.post('/logout-everywhere').set('Origin', 'https://evil.example').expect(403);
    expect(foreign.body.error).toBe('ERR_OIDC_CROSS_SITE_REQUEST');
    await agent.get('/api/me').expect(200);
    const anonymous = await request(live.baseUrl).post('/logout-everywhere').expect(401);
    expect(anonymous.body.error).toBe('ERR_OIDC_UNAUTHENTICATED');
    expect(loggedOut).toEqual([]);
  });

  it('auth.sessions.destroy({ sub, iss, id }) ends that session only, and never one of another user', async () => {
    const { live, login, loggedOut } = await start(adapter);
    const [one, two] = [await login('alice'), await login('alice')];
    const bob = await login('bob');
    const iss = live.idp.issuer;
    const [target] = await sessionsOf(live).list({ sub: 'alice', iss });
    const [bobs] = await sessionsOf(live).list({ sub: 'bob', iss });
    expect(await sessionsOf(live).destroy({ sub: 'alice', iss, id: bobs?.id as string })).toBe(0);
    await bob.get('/api/me').expect(200);
    expect(await sessionsOf(live).destroy({ sub: 'alice', iss, id: target?.id as string })).toBe(1);
    expect(loggedOut).toEqual([{ sub: 'alice', provider: 'default', hasReq: false }]);
    const statuses = [(await one.get('/api/me')).status, (await two.get('/api/me')).status].sort();
    expect(statuses).toEqual([200, 401]);
    expect(await sessionsOf(live).destroy({ sub: 'alice', iss })).toBe(1);
    for (const agent of [one, two]) await agent.get('/api/me').expect(401);
  });

  it('drops index entries whose session is gone from the store', async () => {
    const index = new MemorySessionIndex();
    const { live, login } = await start(adapter, { sessionIndex: index });
    await login('alice');
    await login('alice');
    const iss = live.idp.issuer;
    expect(await index.find({ iss, sub: 'alice' })).toHaveLength(2);
    const [gone] = await sessionsOf(live).list({ sub: 'alice', iss });
    const store = (live as unknown as { store: { destroy(id: string, cb?: unknown): unknown } }).store;
    if (adapter === 'koa') await (store as unknown as { destroy(id: string): Promise<void> }).destroy(gone?.id as string);
    else await new Promise<void>((resolve) => store.destroy(gone?.id as string, () => resolve()));
    const listed = await sessionsOf(live).list({ sub: 'alice', iss });
    expect(listed).toHaveLength(1);
    expect(listed.map((s) => s.id)).not.toContain(gone?.id);
    expect(await index.find({ iss, sub: 'alice' })).toEqual([listed[0]?.id]);
  });

  it('validates its arguments, and needs one request through the middleware to know the store', async () => {
    const fresh = createRp(adapter, { issuer: 'http://127.0.0.1:9/unused' });
    const api = (fresh.auth as unknown as { sessions: SessionsApi }).sessions;
    await expect(api.list({ sub: 'alice', iss: 'x' })).rejects.toMatchObject({ code: 'ERR_OIDC_NOT_MOUNTED' });
    await request(fresh.app).get('/').expect(200);
    await expect(api.list({ sub: 'alice', iss: 'x' })).resolves.toEqual([]);
    await expect(api.list({ sub: '', iss: 'x' } as never)).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_CONFIG' });
    await expect(api.destroy({ sub: 'alice' } as never)).rejects.toMatchObject({ code: 'ERR_OIDC_INVALID_CONFIG' });
  });
});

describe('logoutEverywhere() when the store fails half-way (express5)', () => {
  it('answers the store error, ends this session last, and a retry finishes the job', async () => {
    const { live, login, loggedOut } = await start('express5');
    const agents = [await login('alice'), await login('alice'), await login('alice')];
    const store = (live as unknown as { store: { destroy(id: string, cb: (err?: unknown) => void): void } }).store;
    const real = store.destroy.bind(store);
    let calls = 0;
    store.destroy = (id, cb) => (++calls === 2 ? cb(new Error('store down')) : real(id, cb));
    const res = await (agents[0] as request.Agent).post('/logout-everywhere').expect(500);
    expect(res.body.error).toBe('ERR_OIDC_SESSION_STORE');
    expect(loggedOut).toHaveLength(1);
    // The asking session is still logged in, so the user can try again.
    await (agents[0] as request.Agent).get('/api/me').expect(200);
    expect((await Promise.all(agents.map((a) => a.get('/api/me')))).map((r) => r.status).sort()).toEqual([200, 200, 401]);
    const again = await (agents[0] as request.Agent).post('/logout-everywhere').expect(200);
    expect(again.body.destroyed).toBe(2);
    for (const agent of agents) await agent.get('/api/me').expect(401);
  });
});
