import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpApp, TestRoute } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** A slow page that changes the session after a while, as an app's "last seen" or cart update would. */
const ROUTES: TestRoute[] = [
  {
    method: 'get',
    path: '/slow-touch',
    guard: { autoRefresh: false },
    handler: async ({ session }) => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      session.lastSeen = Date.now();
      return { ok: true };
    },
  },
  { method: 'get', path: '/token', handler: async ({ oidc }) => ({ token: await oidc?.getAccessToken({ minTtl: 3600 }) }) },
];

async function loggedIn(adapter: Adapter): Promise<{ rp: RpApp; agent: request.Agent }> {
  const rp = createRp(adapter, { issuer: op.issuer }, ROUTES);
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return { rp, agent };
}

async function storedLogins(rp: RpApp): Promise<Array<{ accessToken: string; refreshToken?: string }>> {
  return Object.values(await rp.sessions())
    .map((s) => (s as { oidc?: { auth?: { accessToken: string; refreshToken?: string } } }).oidc?.auth)
    .filter((auth): auth is { accessToken: string; refreshToken?: string } => auth !== undefined);
}

describe.each(ADAPTERS)('a slow request that changes the session (%s)', (adapter) => {
  it('does not bring the login back after a logout in another tab (SES-17)', async () => {
    const { rp, agent } = await loggedIn(adapter);
    const slow = agent.get('/slow-touch').then((res) => res);
    await new Promise((resolve) => setTimeout(resolve, 60));
    await agent.get('/logout').expect(302);
    expect((await slow).status).toBe(200);
    expect(await storedLogins(rp)).toEqual([]);
    await agent.get('/api/me').expect(401);
  });

  it('does not write the tokens it loaded back over tokens refreshed meanwhile', async () => {
    const { rp, agent } = await loggedIn(adapter);
    const slow = agent.get('/slow-touch').then((res) => res);
    await new Promise((resolve) => setTimeout(resolve, 60));
    const refreshed = (await agent.get('/token').expect(200)).body.token as string;
    expect((await slow).status).toBe(200);
    const [login] = await storedLogins(rp);
    expect(login?.accessToken).toBe(refreshed);
    const latestRefreshToken = op.tokenCalls.filter((call) => call.grantType === 'refresh_token').length;
    expect(latestRefreshToken).toBe(1);
    // The stored refresh token is the rotated one: a second refresh works (the old one would be invalid_grant).
    await agent.get('/token').expect(200);
  });
});
