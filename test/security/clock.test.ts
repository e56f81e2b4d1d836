/**
 * Security checklist §5.9: clock skew between the IdP and us, in both directions, with the default
 * tolerance (60 s), a configured `clockTolerance`, and our own clock moved through the `clock` option.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { expectNotLoggedIn, login, nowSec } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function outcome(rp: RpApp): Promise<number> {
  const { res, agent } = await login(rp, op);
  if (res.status === 502) {
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    expect(op.counters.userinfo).toBe(0);
    await expectNotLoggedIn(rp, agent);
  }
  return res.status;
}

/** ID token timestamps as an IdP whose clock is `skewSec` ahead of ours would mint them. */
function opClock(skewSec: number): Record<string, number> {
  const t = nowSec() + skewSec;
  return { iat: t, nbf: t, auth_time: t, exp: t + 300 };
}

describe('IdP clock skew', () => {
  it('CLK-01 IdP clock 20 s ahead (iat/nbf slightly in the future): accepted', async () => {
    op.behaviour.idToken = { claims: opClock(20) };
    expect(await outcome(createRpApp({ issuer: op.issuer }))).toBe(302);
  });

  it('CLK-02 IdP clock 2 min ahead: refused with the default tolerance, accepted with clockTolerance 180', async () => {
    op.behaviour.idToken = { claims: opClock(120) };
    expect(await outcome(createRpApp({ issuer: op.issuer }))).toBe(502);
    op.counters.userinfo = 0;
    expect(await outcome(createRpApp({ issuer: op.issuer, clockTolerance: 180 }))).toBe(302);
  });

  it('CLK-03 IdP clock behind: exp passed by 90 s is refused by default, accepted with clockTolerance 120', async () => {
    const t = nowSec() - 400;
    op.behaviour.idToken = { claims: { iat: t, auth_time: t, exp: nowSec() - 90 } };
    expect(await outcome(createRpApp({ issuer: op.issuer }))).toBe(502);
    op.counters.userinfo = 0;
    expect(await outcome(createRpApp({ issuer: op.issuer, clockTolerance: 120 }))).toBe(302);
  });

  it('CLK-03 the tolerance is capped: clockTolerance above 300 s is a startup error naming the option', () => {
    expect(() => createRpApp({ issuer: op.issuer, clockTolerance: 3600 })).toThrow(/"clockTolerance"/);
  });
});

describe('our own clock (the `clock` option)', () => {
  it('CLK-01 our clock 30 s behind the IdP: accepted', async () => {
    expect(await outcome(createRpApp({ issuer: op.issuer, clock: () => Date.now() - 30_000 }))).toBe(302);
  });

  it('CLK-02 our clock 3 min behind the IdP (its fresh tokens look issued in the future): refused', async () => {
    expect(await outcome(createRpApp({ issuer: op.issuer, clock: () => Date.now() - 180_000 }))).toBe(502);
  });

  it('CLK-03 our clock 2 h ahead of the IdP (its one-hour tokens look expired): refused', async () => {
    expect(await outcome(createRpApp({ issuer: op.issuer, clock: () => Date.now() + 2 * 3600_000 }))).toBe(502);
  });

  it('CLK-04 the login lifetime follows our clock, not the cookie: a jump past absoluteDuration ends it server-side', async () => {
    let offset = 0;
    const rp = createRpApp({ issuer: op.issuer, absoluteDuration: 600, clock: () => Date.now() + offset });
    const { agent } = await login(rp, op);
    await agent.get('/api/me').expect(200);
    offset = 601_000;
    await agent.get('/api/me').expect(401);
    expect((await agent.get('/').expect(200)).body.user).toBeNull();
  });
});
