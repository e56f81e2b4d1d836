import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { TestRoute } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** Everything `req.oidc` (Express) / `ctx.state.oidc` (Koa) exposes, as JSON. */
const CONTEXT_ROUTE: TestRoute = {
  method: 'get',
  path: '/context',
  handler: async ({ oidc, user }) => ({
    isAuthenticated: oidc?.isAuthenticated(),
    user: user ?? null,
    contextUser: oidc?.user ?? null,
    idTokenClaims: oidc?.idTokenClaims ?? null,
    idToken: oidc?.idToken ?? null,
    accessToken: oidc?.accessToken ?? null,
    refreshToken: oidc?.refreshToken ?? null,
    expiresAt: oidc?.expiresAt ?? null,
    provider: oidc?.provider ?? null,
    userinfo: (await oidc?.fetchUserInfo()) ?? null,
  }),
};

describe.each(ADAPTERS)('the request context (%s)', (adapter) => {
  it('is anonymous before login', async () => {
    const rp = createRp(adapter, { issuer: op.issuer }, [CONTEXT_ROUTE]);
    const { body } = await request(rp.app).get('/context').expect(200);
    expect(body).toEqual({
      isAuthenticated: false, user: null, contextUser: null, idTokenClaims: null, idToken: null, accessToken: null,
      refreshToken: null, expiresAt: null, provider: null, userinfo: null,
    });
    expect(op.counters.userinfo).toBe(0);
  });

  it('exposes the login: user, claims, tokens, expiry, provider and a live userinfo call', async () => {
    op.behaviour.userinfoClaims = { favourite_colour: 'green' };
    const rp = createRp(adapter, { issuer: op.issuer }, [CONTEXT_ROUTE]);
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const { body } = await agent.get('/context').expect(200);
    const auth = (Object.values(await rp.sessions())[0] as { oidc: { auth: Record<string, unknown> } }).oidc.auth;
    expect(body.isAuthenticated).toBe(true);
    expect(body.user).toMatchObject({ sub: 'user-1', iss: op.issuer, favourite_colour: 'green' });
    expect(body.user).not.toHaveProperty('nonce');
    expect(body.contextUser).toEqual(body.user);
    expect(body.idTokenClaims).toMatchObject({ sub: 'user-1', aud: 'rp', nonce: expect.any(String) });
    expect(body).toMatchObject({
      idToken: auth.idToken, accessToken: auth.accessToken, refreshToken: auth.refreshToken, expiresAt: auth.expiresAt, provider: 'default',
    });
    expect(body.userinfo).toMatchObject({ sub: 'user-1', favourite_colour: 'green' });
    expect(op.counters.userinfo).toBe(2);
  });
});
