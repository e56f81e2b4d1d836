/**
 * Security checklist §5.15: back-channel logout cases not covered by test/express/backchannel-logout.test.ts.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import { corruptSignature } from '../helpers/hostile-op-keys.js';
import type { HostileOp, SignHeader } from '../helpers/hostile-op.js';
import { createRpApp } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { loggedIn, nowSec, storedAuths } from './support.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

function logoutClaims(overrides: Record<string, unknown>, issuer = op.issuer): Record<string, unknown> {
  const claims: Record<string, unknown> = { iss: issuer, aud: 'rp', iat: nowSec(), exp: nowSec() + 120, jti: randomUUID(), events: { [EVENT]: {} } };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete claims[key];
    else claims[key] = value;
  }
  return claims;
}

async function token(overrides: Record<string, unknown>, header?: SignHeader): Promise<string> {
  return op.sign(logoutClaims(overrides), header);
}

function post(rp: RpApp, body: string, path = '/backchannel-logout', type = 'application/x-www-form-urlencoded') {
  return request(rp.app).post(path).set('Content-Type', type).send(body);
}

/** A browser that logged in, with the sid the IdP gave this login. */
async function user(rp: RpApp): Promise<{ agent: request.Agent; sid: string }> {
  const agent = await loggedIn(rp, op);
  return { agent, sid: op.logins.at(-1)?.sid as string };
}

describe('back-channel logout', () => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRpApp({ issuer: op.issuer, backchannelLogout: true });
  });

  it('BCL-09 a logout token whose signature was tampered with: 400, sessions untouched', async () => {
    const victim = await user(rp);
    const res = await post(rp, `logout_token=${corruptSignature(await token({ sid: victim.sid }))}`);
    expect(res.status).toBe(400);
    await victim.agent.get('/api/me').expect(200);
  });

  it.each([['dpop+jwt'], ['JOSE+JSON'], ['secevent+jwt']])('BCL-13 typ %s: 400', async (typ) => {
    const victim = await user(rp);
    const res = await post(rp, `logout_token=${await token({ sid: victim.sid }, { typ })}`);
    expect(res.status).toBe(400);
    await victim.agent.get('/api/me').expect(200);
  });

  it('BCL-13 typ logout+jwt: accepted', async () => {
    const victim = await user(rp);
    expect((await post(rp, `logout_token=${await token({ sid: victim.sid }, { typ: 'logout+jwt' })}`)).status).toBe(200);
    await victim.agent.get('/api/me').expect(401);
  });

  it('BCL-15 a body over 64 KB is refused without touching any session', async () => {
    const victim = await user(rp);
    const res = await post(rp, `logout_token=${await token({ sid: victim.sid })}&pad=${'p'.repeat(70 * 1024)}`);
    expect([400, 413]).toContain(res.status);
    await victim.agent.get('/api/me').expect(200);
  });

  it('BCL-15 a text/plain body is refused', async () => {
    const victim = await user(rp);
    const res = await post(rp, `logout_token=${await token({ sid: victim.sid })}`, '/backchannel-logout', 'text/plain');
    expect(res.status).toBe(400);
    await victim.agent.get('/api/me').expect(200);
  });

  it('BCL-16 a token naming both sub and sid ends only that sid\'s session', async () => {
    const one = await user(rp);
    const two = await user(rp);
    expect((await post(rp, `logout_token=${await token({ sub: 'user-1', sid: one.sid })}`)).status).toBe(200);
    await one.agent.get('/api/me').expect(401);
    await two.agent.get('/api/me').expect(200);
  });

  it('BCL-17 an unknown sub: 200 (already logged out), nobody else affected', async () => {
    const bystander = await user(rp);
    const res = await post(rp, `logout_token=${await token({ sub: 'nobody' })}`);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    await bystander.agent.get('/api/me').expect(200);
  });

  it('BCL-18 the logged-out session\'s refresh token is gone from the store and never used again', async () => {
    let offset = 0;
    rp = createRpApp({ issuer: op.issuer, backchannelLogout: true, clock: () => Date.now() + offset });
    op.behaviour.accessTokenTtl = 30;
    const victim = await user(rp);
    expect((await storedAuths(rp))[0]?.refreshToken).toBeDefined();
    expect((await post(rp, `logout_token=${await token({ sid: victim.sid })}`)).status).toBe(200);
    expect(JSON.stringify(await rp.sessions())).not.toMatch(/rt-/);
    offset = 31_000;
    await victim.agent.get('/api/me').set('Accept', 'application/json').expect(401);
    expect(op.tokenCalls.filter((c) => c.grantType === 'refresh_token')).toHaveLength(0);
  });

  it('BCL-20 a refresh in flight when the back-channel logout lands does not bring the session back', async () => {
    let offset = 0;
    rp = createRpApp({ issuer: op.issuer, backchannelLogout: true, clock: () => Date.now() + offset });
    op.behaviour.accessTokenTtl = 30;
    const victim = await user(rp);
    offset = 31_000;
    op.behaviour.tokenDelayMs = 300;
    const inflight = victim.agent.get('/api/me').set('Accept', 'application/json').then((r) => r);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const now = Math.floor((Date.now() + offset) / 1000);
    expect((await post(rp, `logout_token=${await token({ sid: victim.sid, iat: now, exp: now + 120 })}`)).status).toBe(200);
    expect((await inflight).status).toBe(401);
    expect(await storedAuths(rp)).toEqual([]);
    await victim.agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });
});

describe('back-channel logout with several IdPs', () => {
  it('BCL-08 / CB-17 a logout token from one IdP posted to another IdP\'s endpoint is refused (400), its sessions untouched', async () => {
    const other = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
    try {
      const rp = createRpApp({
        clientId: undefined,
        clientSecret: undefined,
        backchannelLogout: true,
        providers: [
          { id: 'a', issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret' },
          { id: 'b', issuer: other.issuer, clientId: 'rp', clientSecret: 'rp-secret' },
        ],
      });
      const agent = request.agent(rp.app);
      const start = await agent.get('/login?provider=a').expect(302);
      const back = new URL(await op.authorize(start.headers.location as string));
      await agent.get(back.pathname + back.search).expect(302);
      const sid = op.logins.at(-1)?.sid as string;
      const fromA = await op.sign(logoutClaims({ sid }));
      expect((await post(rp, `logout_token=${fromA}`, '/backchannel-logout/b')).status).toBe(400);
      await agent.get('/api/me').expect(200);
      const forgedByB = await other.sign(logoutClaims({ sid }, op.issuer));
      expect((await post(rp, `logout_token=${forgedByB}`, '/backchannel-logout/a')).status).toBe(400);
      expect((await post(rp, `logout_token=${forgedByB}`, '/backchannel-logout/b')).status).toBe(400);
      await agent.get('/api/me').expect(200);
      expect((await post(rp, `logout_token=${fromA}`, '/backchannel-logout/a')).status).toBe(200);
      await agent.get('/api/me').set('Accept', 'application/json').expect(401);
    } finally {
      await other.close();
    }
  });
});
