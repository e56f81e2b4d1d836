import { decodeJwt } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { startLiveRp } from '../helpers/live-rp.js';
import type { LiveRp } from '../helpers/live-rp.js';
import { ADAPTERS, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpOptions, TestRoute } from '../helpers/rp-app.js';

// RFC 8707 resource indicators against oidc-provider: the login asks for two APIs, the login's own token
// serves userinfo, and getAccessToken({ resource }) gets one token per API with the refresh token.
const API = 'https://api.example.test';
const REPORTS = 'https://reports.example.test';
const UNKNOWN = 'https://unknown.example.test';
const SCOPE = 'openid profile email read:things write:things reports:read';

const ROUTES: TestRoute[] = [
  {
    method: 'get',
    path: '/api-token',
    handler: async ({ oidc, query }) => ({
      token: await oidc?.getAccessToken({
        resource: query.resource as string,
        ...(query.scope !== undefined ? { scope: query.scope as string } : {}),
        ...(query.minTtl !== undefined ? { minTtl: Number(query.minTtl) } : {}),
      }),
    }),
  },
  { method: 'get', path: '/main-token', handler: async ({ oidc, query }) => ({ token: await oidc?.getAccessToken({ minTtl: Number(query.minTtl ?? 60) }) }) },
  { method: 'get', path: '/userinfo', handler: async ({ oidc }) => ({ userinfo: await oidc?.fetchUserInfo() }) },
];

interface StoredAuth {
  accessToken: string;
  refreshToken: string;
  resourceTokens?: Record<string, { accessToken: string; expiresAt?: number; scope?: string }>;
}

let rp: LiveRp | undefined;
afterEach(async () => {
  await rp?.close();
  rp = undefined;
});

async function loggedIn(adapter: Adapter, options: RpOptions = {}, idp: Record<string, unknown> = {}) {
  let offset = 0;
  rp = await startLiveRp(
    { resources: [API, REPORTS], scope: SCOPE, clock: () => Date.now() + offset, ...options },
    {
      resourceServers: { [API]: { scope: 'read:things write:things' }, [REPORTS]: { scope: 'reports:read' } },
      useGrantedResource: false,
      accessTokenTtl: 300,
      ...idp,
    },
    adapter,
    ROUTES,
  );
  const live = rp;
  const agent = request.agent(live.baseUrl);
  const start = await agent.get('/login').set('Accept', 'text/html').expect(302);
  const back = await live.idp.login(start.headers.location as string, { username: 'alice', password: 'alice' });
  await agent.get(localPath(back.url)).expect(302);
  const stored = async (): Promise<StoredAuth | undefined> =>
    (Object.values(await live.sessions())[0] as { oidc?: { auth?: StoredAuth } } | undefined)?.oidc?.auth;
  live.idp.resetCounters();
  return { live, agent, stored, advance: (sec: number) => (offset += sec * 1000) };
}

const tokenFor = (resource: string, extra = '') => `/api-token?resource=${encodeURIComponent(resource)}${extra}`;

describe.each(ADAPTERS)('getAccessToken({ resource }) against oidc-provider (%s)', (adapter) => {
  it('returns a JWT for that audience, caches it in the session, and leaves the login token for userinfo', async () => {
    const { live, agent, stored } = await loggedIn(adapter);
    const before = await stored();
    const res = await agent.get(tokenFor(API)).expect(200);
    const claims = decodeJwt(res.body.token);
    expect(claims.aud).toBe(API);
    expect(String(claims.scope).split(' ').sort()).toEqual(['read:things', 'write:things']);
    expect(live.idp.counters.token).toBe(1);
    const again = await agent.get(tokenFor(API)).expect(200);
    expect(again.body.token).toBe(res.body.token);
    expect(live.idp.counters.token).toBe(1);
    const after = await stored();
    expect(after?.accessToken).toBe(before?.accessToken);
    expect(after?.resourceTokens?.[API]?.accessToken).toBe(res.body.token);
    // oidc-provider rotates refresh tokens: the session must hold the new one, or the next refresh fails.
    expect(after?.refreshToken).not.toBe(before?.refreshToken);
    const info = await agent.get('/userinfo').expect(200);
    expect(info.body.userinfo.sub).toBe('alice');
    const main = await agent.get('/main-token?minTtl=1000').expect(200);
    expect(main.body.token).not.toBe(before?.accessToken);
    expect(decodeJwt(res.body.token).aud).not.toBe('rp');
  });

  it('keeps one token per resource, each with its own expiry, and refetches only the expired one', async () => {
    const { live, agent, stored, advance } = await loggedIn(adapter);
    const api = (await agent.get(tokenFor(API)).expect(200)).body.token;
    const reports = (await agent.get(tokenFor(REPORTS)).expect(200)).body.token;
    expect(decodeJwt(reports).aud).toBe(REPORTS);
    expect(live.idp.counters.token).toBe(2);
    expect(Object.keys((await stored())?.resourceTokens ?? {}).sort()).toEqual([API, REPORTS]);
    // Within minTtl of expiry: a new token for that API only.
    advance(250);
    const fresher = await agent.get(tokenFor(API)).expect(200);
    expect(fresher.body.token).not.toBe(api);
    expect(live.idp.counters.token).toBe(3);
    const sameReports = await agent.get(tokenFor(REPORTS, '&minTtl=10')).expect(200);
    expect(sameReports.body.token).toBe(reports);
    expect(live.idp.counters.token).toBe(3);
  });

  it('asks for a narrower scope, and fetches again when a scope the cached token lacks is asked for', async () => {
    const { live, agent } = await loggedIn(adapter);
    const read = await agent.get(tokenFor(API, '&scope=read:things')).expect(200);
    expect(decodeJwt(read.body.token).scope).toBe('read:things');
    await agent.get(tokenFor(API, '&scope=read:things')).expect(200);
    expect(live.idp.counters.token).toBe(1);
    const write = await agent.get(tokenFor(API, '&scope=write:things')).expect(200);
    expect(decodeJwt(write.body.token).scope).toBe('write:things');
    expect(live.idp.counters.token).toBe(2);
  });

  it('20 concurrent requests for two APIs: one token request per API, and the rotating refresh token is never reused', async () => {
    const { live, agent, stored } = await loggedIn(adapter);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => agent.get(tokenFor(i % 2 ? API : REPORTS))));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(live.idp.counters.token).toBe(2);
    const cache = (await stored())?.resourceTokens ?? {};
    expect(new Set(results.filter((_, i) => i % 2).map((r) => r.body.token))).toEqual(new Set([cache[API]?.accessToken]));
    expect(new Set(results.filter((_, i) => !(i % 2)).map((r) => r.body.token))).toEqual(new Set([cache[REPORTS]?.accessToken]));
    // A reused rotated refresh token would have made oidc-provider revoke the grant: this refresh would fail.
    await agent.get('/main-token?minTtl=1000').expect(200);
  });

  it('keeps at most maxResourceTokens tokens, dropping the oldest', async () => {
    const { agent, stored } = await loggedIn(adapter, { maxResourceTokens: 1 });
    await agent.get(tokenFor(API)).expect(200);
    await agent.get(tokenFor(REPORTS)).expect(200);
    expect(Object.keys((await stored())?.resourceTokens ?? {})).toEqual([REPORTS]);
  });

  it('a resource the IdP refuses (not asked for at login): 403 ERR_OIDC_RESOURCE_REFUSED, the login stays', async () => {
    const { live, agent, stored } = await loggedIn(adapter, {}, { resourceServers: { [API]: { scope: 'read:things' }, [REPORTS]: { scope: 'reports:read' }, [UNKNOWN]: { scope: 'x' } } });
    const before = await stored();
    const res = await agent.get(tokenFor(UNKNOWN)).expect(403);
    expect(res.body.error).toBe('ERR_OIDC_RESOURCE_REFUSED');
    expect(live.errors.at(-1)?.message).toContain('invalid_target');
    const after = await stored();
    expect(after?.accessToken).toBe(before?.accessToken);
    expect(after?.resourceTokens).toBeUndefined();
    await agent.get('/profile').expect(200);
  });

  it('a scope the login was not granted: 403 ERR_OIDC_RESOURCE_REFUSED (invalid_scope)', async () => {
    const { agent } = await loggedIn(adapter);
    const res = await agent.get(tokenFor(API, '&scope=admin:things')).expect(403);
    expect(res.body.error).toBe('ERR_OIDC_RESOURCE_REFUSED');
    await agent.get('/profile').expect(200);
  });

  it('a revoked refresh token ends the login: 401 ERR_OIDC_REFRESH_FAILED, the session has no login', async () => {
    const { live, agent, stored } = await loggedIn(adapter);
    const before = await stored();
    const token = (await (live.idp.provider as unknown as import('oidc-provider').default).RefreshToken.find(before?.refreshToken as string)) as { destroy(): Promise<void> } | undefined;
    expect(token).toBeDefined();
    await token?.destroy();
    const res = await agent.get(tokenFor(API)).expect(401);
    expect(res.body.error).toBe('ERR_OIDC_REFRESH_FAILED');
    expect(await stored()).toBeUndefined();
    await agent.get('/api/me').expect(401);
  });

  it('refuses a malformed resource before calling the IdP', async () => {
    const { live, agent } = await loggedIn(adapter);
    for (const bad of ['not a uri', '/relative', 'https://api.example.test/#frag']) {
      const res = await agent.get(tokenFor(bad)).expect(500);
      expect(res.body.error).toBe('ERR_OIDC_INVALID_CONFIG');
    }
    expect(live.idp.counters.token).toBe(0);
  });

  it('sends every listed resource on the authorization request', async () => {
    rp = await startLiveRp({ resources: [API, REPORTS], scope: SCOPE }, { resourceServers: { [API]: { scope: 'read:things' }, [REPORTS]: { scope: 'reports:read' } } }, adapter);
    const start = await request(rp.baseUrl).get('/login').expect(302);
    expect(new URL(start.headers.location as string).searchParams.getAll('resource')).toEqual([API, REPORTS]);
  });
});
