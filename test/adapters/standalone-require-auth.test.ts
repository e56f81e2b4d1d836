/**
 * Issue 13: `requireAuth()` as a standalone export, for routers in other files (express-openid-connect's
 * `requiresAuth()`): the same answers as `auth.requireAuth()`, the instance found through the request.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireAuth } from '../../lib/express/index.js';
import { requireAuth as koaRequireAuth } from '../../lib/koa/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpApp } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

function app(adapter: Adapter): RpApp {
  const guard = () => (adapter === 'koa' ? koaRequireAuth() : requireAuth());
  return createRp(adapter, { issuer: op.issuer }, [{ method: 'get', path: '/elsewhere', guard, handler: ({ user }) => ({ sub: user?.sub }) }]);
}

describe.each(ADAPTERS)('standalone requireAuth() (%s)', (adapter) => {
  it('sends a logged-out browser to log in and back, answers 401 to an API call', async () => {
    const rp = app(adapter);
    const api = await request(rp.app).get('/elsewhere').set('Accept', 'application/json');
    expect(api.status).toBe(401);
    expect(api.body.error).toBe('ERR_OIDC_UNAUTHENTICATED');
    const page = await request(rp.app).get('/elsewhere').set('Accept', 'text/html');
    expect(page.status).toBe(302);
    expect(page.headers.location).toMatch(new RegExp(`^${op.issuer}/authorize\\?`));
  });

  it('lets a logged-in request through, marked private', async () => {
    const rp = app(adapter);
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const res = await agent.get('/elsewhere').set('Accept', 'application/json').expect(200);
    expect(res.body.sub).toBeTruthy();
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
