/**
 * Security checklist §5.13: refresh cases not covered by test/express/refresh.test.ts: azp continuity,
 * a badly signed refreshed ID token, no id_token at all, refresh token rotation hygiene, no tight
 * retries on outages, and the absolute lifetime outliving any number of refreshes.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ExpressOidcOptions } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp, IdTokenMutation } from '../helpers/hostile-op.js';
import { createRpApp } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { loggedIn, storedAuths } from '../security/support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => {
  op.reset();
  op.behaviour.accessTokenTtl = 30;
});

interface Harness {
  rp: RpApp;
  agent: request.Agent;
  advance(seconds: number): void;
  refreshCalls(): Array<{ refreshToken: string; result: string }>;
}

async function setup(options: Partial<ExpressOidcOptions> = {}, loginIdToken: IdTokenMutation = {}): Promise<Harness> {
  let offset = 0;
  const rp = createRpApp({ issuer: op.issuer, clock: () => Date.now() + offset, ...options });
  op.behaviour.idToken = loginIdToken;
  const agent = await loggedIn(rp, op);
  op.behaviour.idToken = {};
  return {
    rp,
    agent,
    advance: (seconds) => {
      offset += seconds * 1000;
    },
    refreshCalls: () =>
      op.tokenCalls.filter((c) => c.grantType === 'refresh_token').map((c) => ({ refreshToken: c.params.refresh_token ?? '', result: c.result })),
  };
}

describe('refresh', () => {
  it('REF-04 a refreshed ID token whose azp differs from the original one: the login ends, no userinfo call', async () => {
    const h = await setup({}, { claims: { azp: 'rp' } });
    op.behaviour.refreshIdToken = { claims: { azp: 'other-client' } };
    const userinfoBefore = op.counters.userinfo;
    h.advance(31);
    const res = await h.agent.get('/api/me').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(await storedAuths(h.rp)).toEqual([]);
    expect(op.counters.userinfo).toBe(userinfoBefore);
  });

  it.each([
    ['a bad signature', { badSignature: true }],
    ['alg none', { alg: 'none' }],
    ['a key outside the JWKS', { signWith: 'other-rs' }],
    ['an expired exp', { claims: { exp: Math.floor(Date.now() / 1000) - 3600 } }],
  ] as Array<[string, IdTokenMutation]>)('REF-03 a refreshed ID token with %s ends the login (401, tokens gone)', async (_name, mutation) => {
    const h = await setup();
    op.behaviour.refreshIdToken = mutation;
    h.advance(31);
    const res = await h.agent.get('/api/me').set('Accept', 'application/json');
    expect(res.status).toBe(401);
    expect(await storedAuths(h.rp)).toEqual([]);
  });

  it('REF-08 a refresh answer without an id_token is accepted: new access token, the original ID token kept', async () => {
    const h = await setup();
    const [before] = await storedAuths(h.rp);
    op.behaviour.refreshIssueIdToken = false;
    h.advance(31);
    await h.agent.get('/api/me').expect(200);
    const [after] = await storedAuths(h.rp);
    expect(after?.accessToken).not.toBe(before?.accessToken);
    expect(after?.idToken).toBe(before?.idToken);
    expect(h.refreshCalls()).toHaveLength(1);
  });

  it('REF-06 with rotation, each refresh sends the newest refresh token and never a superseded one', async () => {
    const h = await setup();
    const issued: string[] = [];
    for (let i = 0; i < 3; i++) {
      issued.push((await storedAuths(h.rp))[0]?.refreshToken as string);
      h.advance(31);
      await h.agent.get('/api/me').expect(200);
    }
    expect(h.refreshCalls()).toEqual(issued.map((refreshToken) => ({ refreshToken, result: 'ok' })));
    expect(new Set(issued).size).toBe(3);
  });

  it('REF-07 a failing refresh endpoint: one attempt, then back-off (no retry per request), the session kept and usable', async () => {
    const h = await setup();
    op.behaviour.tokenStatus = 500;
    h.advance(31);
    await h.agent.get('/api/me').expect(200);
    expect(op.counters.token).toBe(2);
    await h.agent.get('/api/me').expect(200);
    expect(op.counters.token).toBe(2);
    expect(await storedAuths(h.rp)).toHaveLength(1);
    op.behaviour.tokenStatus = 200;
    h.advance(2);
    await h.agent.get('/api/me').expect(200);
    expect(op.counters.token).toBe(3);
  });

  it('REF-09 / SES-09 refreshing all along never extends the login past absoluteDuration', async () => {
    const h = await setup({ absoluteDuration: 120 });
    for (let elapsed = 31; elapsed < 120; elapsed += 31) {
      h.advance(31);
      await h.agent.get('/api/me').expect(200);
    }
    const refreshesBefore = h.refreshCalls().length;
    expect(refreshesBefore).toBeGreaterThanOrEqual(2);
    h.advance(31);
    await h.agent.get('/api/me').set('Accept', 'application/json').expect(401);
    expect(h.refreshCalls()).toHaveLength(refreshesBefore);
  });
});
