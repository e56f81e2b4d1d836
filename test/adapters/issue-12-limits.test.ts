/**
 * Issue 12, defects 10 and 11 (what one anonymous request may cost; answers a cache must not keep), on
 * Express 5, Express 4 and Koa, through the public API.
 */
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MemoryLock, requireBearer } from '../../lib/express/index.js';
import type { RefreshLock } from '../../lib/express/index.js';
import { requireBearer as koaRequireBearer } from '../../lib/koa/index.js';
import type { BearerKoaState } from '../../lib/koa/index.js';
import { createApiApp } from '../helpers/api-app.js';
import { API, API_CLIENT, OPAQUE_API, startApiIdp } from '../helpers/api-idp.js';
import type { ApiIdp } from '../helpers/api-idp.js';
import { navigate } from '../helpers/browser-navigation.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter } from '../helpers/rp-app.js';

let op: HostileOp;
let api: ApiIdp;
beforeAll(async () => {
  [op, api] = await Promise.all([startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' }), startApiIdp()]);
});
afterAll(async () => {
  await Promise.all([op.close(), api.close()]);
});
beforeEach(() => {
  op.reset();
  api.idp.resetCounters();
});

/**
 * A lock as an app could pass in (`lock` option) that records what the library does with it. With
 * `gate` set, the second request for one callback claim waits for the gate before it asks: a copy of the
 * callback that is slow between loading its session and claiming the code.
 */
class RecordingLock implements RefreshLock {
  readonly inner = new MemoryLock();
  readonly acquired: string[] = [];
  readonly released: string[] = [];
  gate: Promise<void> | undefined;
  private claimed = new Set<string>();

  async acquire(key: string, ttlMs: number): Promise<boolean> {
    if (this.gate && key.startsWith('callback:')) {
      if (this.claimed.has(key)) await this.gate;
      this.claimed.add(key);
    }
    const ok = await this.inner.acquire(key, ttlMs);
    if (ok) this.acquired.push(key);
    return ok;
  }

  async release(key: string): Promise<void> {
    this.released.push(key);
    await this.inner.release(key);
  }
}

/** An API guarded by requireBearer() with introspection, in each framework. */
function bearerApi(adapter: Adapter): Parameters<typeof request>[0] {
  const options = { issuer: api.idp.issuer, audience: [API, OPAQUE_API], introspection: API_CLIENT };
  if (adapter === 'koa') {
    const app = new Koa<BearerKoaState>();
    app.silent = true;
    app.use(koaRequireBearer(options));
    app.use((ctx) => {
      ctx.body = { sub: ctx.state.auth?.sub };
    });
    return app.callback();
  }
  return createApiApp((app) => {
    app.get('/api/things', requireBearer(options), (req, res) => res.json({ sub: req.auth?.sub }));
  }, adapter === 'express4' ? 4 : 5);
}

const bearer = (app: Parameters<typeof request>[0], token: string) => request(app).get('/api/things').set('Authorization', `Bearer ${token}`);

describe.each(ADAPTERS)('issue 12 (%s)', (adapter) => {
  describe('defect 10: one anonymous request, one IdP call; the lock does not keep what it no longer needs', () => {
    it('an unknown opaque token sent again and again costs one introspection', async () => {
      const app = bearerApi(adapter);
      for (let i = 0; i < 5; i++) await bearer(app, 'made-up-opaque-token').expect(401);
      expect(api.idp.counters.introspection).toBe(1);
    });

    it('the callback claim is released once the login is done, and a late copy of the callback still cannot redeem the code', async () => {
      const lock = new RecordingLock();
      const rp = createRp(adapter, { issuer: op.issuer, lock });
      for (let i = 0; i < 3; i++) {
        const agent = request.agent(rp.app);
        const start = await navigate(agent.get('/login')).expect(302);
        await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
      }
      const claims = lock.acquired.filter((key) => key.startsWith('callback:'));
      expect(claims).toHaveLength(3);
      expect(lock.released).toEqual(expect.arrayContaining(claims));

      // Two copies of one callback (double click): the second asks for the claim only after the first answered.
      let open!: () => void;
      lock.gate = new Promise<void>((resolve) => (open = resolve));
      const agent = request.agent(rp.app);
      const start = await navigate(agent.get('/login')).expect(302);
      const callback = localPath(await op.authorize(start.headers.location as string));
      const copy = () => agent.get(callback).then((res) => (open(), res));
      const answers = await Promise.all([copy(), copy()]);
      expect(answers.map((res) => res.status).sort()).toEqual([302, 400]);
      expect(answers.find((res) => res.status === 400)?.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
      expect(op.tokenCalls.filter((call) => call.grantType === 'authorization_code')).toHaveLength(4);
      await agent.get('/api/me').set('Accept', 'application/json').expect(200);
    });
  });

  describe('defect 11: requireBearer() answers are never cached', () => {
    it('a request admitted by requireBearer() answers Cache-Control: no-store', async () => {
      const { access_token } = await api.tokens('alice', { resource: API, scope: 'openid read:things' });
      const res = await bearer(bearerApi(adapter), access_token).expect(200);
      expect(res.body.sub).toBe('alice');
      expect(res.headers['cache-control']).toBe('no-store');
    });
  });
});

describe('defect 10: the refusals kept are bounded', () => {
  it('after 1,000 other unknown tokens the first one is asked about again (entries are bounded, oldest out)', async () => {
    const app = bearerApi('express5');
    await bearer(app, 'first-made-up-token').expect(401);
    // In order, a hundred at a time: the refusals are remembered oldest first.
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, i) => bearer(app, `made-up-${batch * 100 + i}`).expect(401)));
    }
    expect(api.idp.counters.introspection).toBe(1001);
    await bearer(app, 'first-made-up-token').expect(401);
    expect(api.idp.counters.introspection).toBe(1002);
    await bearer(app, 'made-up-999').expect(401);
    expect(api.idp.counters.introspection).toBe(1002);
  }, 60_000);
});
