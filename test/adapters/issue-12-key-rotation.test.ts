/**
 * Issue 12, defect 9: key rotation right after a JWKS fetch failed the login. The IdP starts signing with a
 * new key; a login within `jwksCooldown` of the last fetch got 502 ERR_OIDC_INVALID_ID_TOKEN. ID tokens
 * come from the token endpoint over an authenticated channel: an unknown `kid` refetches at once (single
 * flight). What anonymous senders can post (back-channel logout tokens) keeps a cool-down, 30 s by
 * default like the bearer side. Checklist KEY-01, KEY-05, BCL-09.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** /login and the IdP's approval; the callback (where the ID token is minted and checked) is left to the caller. */
async function startLogin(rp: RpApp): Promise<{ agent: request.Agent; callback: string }> {
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  return { agent, callback: localPath(await op.authorize(start.headers.location as string)) };
}

async function login(rp: RpApp): Promise<request.Response> {
  const { agent, callback } = await startLogin(rp);
  return agent.get(callback);
}

function logoutToken(): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return op.sign({ iss: op.issuer, aud: 'rp', iat: now, exp: now + 120, jti: randomUUID(), events: { [EVENT]: {} }, sub: 'user-1' }, { typ: 'logout+jwt' });
}

describe.each(ADAPTERS)('issue 12 defect 9: key rotation right after a JWKS fetch (%s)', (adapter) => {
  // The RP's clock stands still unless a test moves it: a loaded machine must not move a window's edge.
  let startMs: number;
  let offsetMs: number;
  let rp: RpApp;
  beforeEach(() => {
    startMs = Date.now();
    offsetMs = 0;
    rp = createRp(adapter, { issuer: op.issuer, backchannelLogout: true, clock: () => startMs + offsetMs });
  });

  it('KEY-01 the IdP rotates its key between two logins milliseconds apart: the second login works, one more JWKS fetch', async () => {
    expect((await login(rp)).status).toBe(302);
    expect(op.counters.jwks).toBe(1);
    await op.rotateKeys();
    const second = await login(rp);
    expect(second.status).toBe(302);
    expect(op.counters.jwks).toBe(2);
  });

  it('the IdP rotates its key right before a refresh: the refreshed ID token verifies, one more JWKS fetch', async () => {
    op.behaviour.accessTokenTtl = 5;
    const { agent, callback } = await startLogin(rp);
    await agent.get(callback).expect(302);
    await op.rotateKeys();
    offsetMs = 10_000;
    const me = await agent.get('/api/me').set('Accept', 'application/json');
    expect(me.status).toBe(200);
    expect(op.tokenCalls.map((c) => `${c.grantType}:${c.result}`)).toEqual(['authorization_code:ok', 'refresh_token:ok']);
    expect(op.counters.jwks).toBe(2);
  });

  it('a burst of 10 callbacks right after the rotation: all log in, and they share one refetch', async () => {
    expect((await login(rp)).status).toBe(302);
    const pending = await Promise.all(Array.from({ length: 10 }, () => startLogin(rp)));
    await op.rotateKeys();
    const statuses = await Promise.all(pending.map(async ({ agent, callback }) => (await agent.get(callback)).status));
    expect(statuses).toEqual(Array(10).fill(302));
    expect(op.counters.jwks).toBe(2);
  });

  it('KEY-05 / BCL-09 a logout token under an unknown kid refetches at most once per 30 s cool-down (the default)', async () => {
    expect((await login(rp)).status).toBe(302);
    await op.rotateKeys();
    const soon = await request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: await logoutToken() });
    expect(soon.status).toBe(400);
    expect(op.counters.jwks).toBe(1);
    offsetMs = 29_000;
    expect((await request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: await logoutToken() })).status).toBe(400);
    expect(op.counters.jwks).toBe(1);
    offsetMs = 31_000;
    const later = await request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: await logoutToken() });
    expect(later.status).toBe(200);
    expect(op.counters.jwks).toBe(2);
  });

  it('an ID token under a kid the IdP does not publish: refused after one refetch, and the next ones wait for the cool-down', async () => {
    expect((await login(rp)).status).toBe(302);
    op.behaviour.idToken = { kid: `unpublished-${randomUUID()}` };
    for (let i = 0; i < 3; i++) {
      const res = await login(rp);
      expect(res.status).toBe(502);
      expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    }
    expect(op.counters.jwks).toBe(2);
  });
});
