/**
 * Security checklist §5.3: error answers from the authorization endpoint (genuine or forged by a third
 * party): no token call, the right pending login consumed or kept, no loop, nothing echoed or logged raw.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, EXPRESS_MAJORS, localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { captureLogger, expectNotLoggedIn, login, pendingStates, startLogin } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

describe.each(EXPRESS_MAJORS)('IdP error responses (Express %i)', (major) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRpApp({ issuer: op.issuer }, major);
  });

  it('ERR-01 access_denied consumes the pending login: replaying the error callback is a 400', async () => {
    op.behaviour.authorizeError = { error: 'access_denied' };
    const { res, agent, callbackPath } = await login(rp, op);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_ACCESS_DENIED');
    expect(await pendingStates(rp)).toEqual([]);
    const replay = await agent.get(callbackPath);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
    expect(op.counters.token).toBe(0);
  });

  it.each([['login_required'], ['interaction_required'], ['consent_required']])(
    'ERR-02 %s outside a silent login: one clean 401, no redirect back to the IdP (no loop)',
    async (error) => {
      op.behaviour.authorizeError = { error };
      const { res, agent } = await login(rp, op);
      expect(res.status).toBe(401);
      expect(res.headers.location).toBeUndefined();
      expect(op.counters.authorization).toBe(1);
      await expectNotLoggedIn(rp, agent);
    },
  );

  it.each([
    ['a wrong state', 'wrong'],
    ['no state', 'missing'],
  ] as const)('ERR-03 a forged error response with %s: 400 and the victim\'s pending login is not consumed', async (_name, stateParam) => {
    const victim = await startLogin(rp, op);
    op.behaviour.authorizeError = { error: 'access_denied' };
    op.behaviour.stateParam = stateParam;
    const forged = await op.authorize(victim.authorizeUrl);
    const res = await victim.agent.get(localPath(forged));
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^ERR_OIDC_(MISSING_TRANSACTION|INVALID_CALLBACK)$/);
    await victim.agent.get(victim.callbackPath).expect(302);
    await victim.agent.get('/api/me').expect(200);
  });

  it.each([['temporarily_unavailable'], ['server_error']])('ERR-04 %s: an error answer, no token call, no automatic retry', async (error) => {
    op.behaviour.authorizeError = { error };
    const { res, agent } = await login(rp, op);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.headers.location).toBeUndefined();
    expect(op.counters.authorization).toBe(1);
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('ERR-05 error and code together: treated as the error, the code is never redeemed', async () => {
    op.behaviour.extraCallbackParams = { error: 'access_denied' };
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_ACCESS_DENIED');
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('ERR-06 an unknown error value and a long description: generic answer, sanitised code, nothing raw in the logs', async () => {
    const { lines, logger } = captureLogger();
    rp = createRpApp({ issuer: op.issuer, logger }, major);
    const description = 'DESCRIPTION-' + 'd'.repeat(3000);
    op.behaviour.authorizeError = { error: 'weird<script>' + 'x'.repeat(200), error_description: description };
    const { res } = await login(rp, op);
    expect(res.status).toBe(401);
    expect(res.text).not.toContain('<script>');
    expect(res.text).not.toContain('DESCRIPTION-');
    const message = rp.errors[0]?.message ?? '';
    expect(message).not.toMatch(/[<>]/);
    expect(message.length).toBeLessThan(120);
    expect(lines.join('\n')).not.toContain('DESCRIPTION-');
    expect(lines.join('\n')).not.toContain('<script>');
  });

  it('ERR-06 a 1 MB error_description is refused before any work', async () => {
    const victim = await startLogin(rp, op);
    const state = new URL(victim.callbackUrl).searchParams.get('state') as string;
    const res = await victim.agent.get(`/callback?error=access_denied&state=${state}&error_description=${'d'.repeat(1_000_000)}`);
    expect([400, 414, 431]).toContain(res.status);
    expect(op.counters.token).toBe(0);
  });

  it('ERR-06 error responses from the IdP never create a session for an anonymous visitor', async () => {
    op.behaviour.authorizeError = { error: 'access_denied' };
    const stranger = await request(rp.app).get('/callback?error=access_denied&state=nope');
    expect(stranger.status).toBe(400);
    expect(stranger.headers['set-cookie']).toBeUndefined();
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
  });
});
