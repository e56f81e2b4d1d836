/**
 * Security checklist §5.2: what an attacker can put into GET /callback. Every rejected case asserts the
 * status and code, that the IdP's token endpoint was not called (R2), and that nothing was stored (R1).
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, EXPRESS_MAJORS, localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { expectNotLoggedIn, login, pendingStates, startLogin } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** The callback URL with some parameters replaced (value null removes them). */
function tamper(callbackUrl: string, changes: Record<string, string | null>): string {
  const url = new URL(callbackUrl);
  for (const [name, value] of Object.entries(changes)) {
    if (value === null) url.searchParams.delete(name);
    else url.searchParams.set(name, value);
  }
  return localPath(url.href);
}

describe.each(EXPRESS_MAJORS)('callback input (Express %i)', (major) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRpApp({ issuer: op.issuer }, major);
  });

  it('CB-01 / CB-27 / LEAK-01 a good callback: one token and one userinfo call, transaction gone, bare 302 with no-store and no-referrer', async () => {
    const { agent, res } = await login(rp, op);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/');
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.text ?? '').toBe('');
    expect(op.counters.token).toBe(1);
    expect(op.counters.userinfo).toBe(1);
    expect(await pendingStates(rp)).toEqual([]);
    await agent.get('/api/me').expect(200);
  });

  it('CB-02 a callback in a browser without a session: 400, the code is never redeemed, no session created', async () => {
    const victim = await startLogin(rp, op);
    const res = await request(rp.app).get(victim.callbackPath);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_NO_SESSION_COOKIE');
    expect(op.counters.token).toBe(0);
    expect(Object.keys(await rp.sessions())).toHaveLength(1);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('CB-03 code without state while a login is pending: 400, no token call, the pending login survives', async () => {
    const victim = await startLogin(rp, op);
    const res = await victim.agent.get(tamper(victim.callbackUrl, { state: null }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(op.counters.token).toBe(0);
    await victim.agent.get(victim.callbackPath).expect(302);
  });

  it("CB-04 the attacker's own valid state and code sent to the victim: 400, no token call, both pending logins intact", async () => {
    const attacker = await startLogin(rp, op);
    const victim = await startLogin(rp, op);
    const res = await victim.agent.get(attacker.callbackPath);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_MISSING_TRANSACTION');
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, victim.agent);
    await victim.agent.get(victim.callbackPath).expect(302);
  });

  it('CB-05 a state with one character changed: 400, no token call, the real login still completes', async () => {
    const victim = await startLogin(rp, op);
    const state = new URL(victim.callbackUrl).searchParams.get('state') as string;
    const flipped = (state[0] === 'A' ? 'B' : 'A') + state.slice(1);
    const res = await victim.agent.get(tamper(victim.callbackUrl, { state: flipped }));
    expect(res.status).toBe(400);
    expect(op.counters.token).toBe(0);
    await victim.agent.get(victim.callbackPath).expect(302);
  });

  it.each([['iss'], ['error']])('CB-06 a repeated %s parameter: 400 before any token call', async (name) => {
    const victim = await startLogin(rp, op);
    const res = await victim.agent.get(`${victim.callbackPath}&${name}=x&${name}=y`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(op.counters.token).toBe(0);
  });

  it.each([
    ['state[]', (s: string) => `code=x&state[]=${s}`],
    ['state[$ne]', () => 'code=x&state[$ne]='],
    ['code[0]', (s: string) => `code[0]=x&state=${s}`],
    ['state[toString]', () => 'code=x&state[toString]=1'],
    ['__proto__', () => 'code=x&state=__proto__'],
    ['constructor', () => 'code=x&state=constructor'],
  ])('CB-07 qs-shaped parameters (%s): 400, never 500, no token call', async (_name, query) => {
    const victim = await startLogin(rp, op);
    const state = new URL(victim.callbackUrl).searchParams.get('state') as string;
    const res = await victim.agent.get(`/callback?${query(state)}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatch(/^ERR_OIDC_(INVALID_CALLBACK|MISSING_TRANSACTION)$/);
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, victim.agent);
  });

  it.each([
    ['a 64 KB code', (path: string) => `${path.replace(/code=[^&]+/, `code=${'c'.repeat(65_536)}`)}`],
    ['a 64 KB state', (path: string) => `${path.replace(/state=[^&]+/, `state=${'s'.repeat(65_536)}`)}`],
    ['10,000 parameters', (path: string) => `${path}&${Array.from({ length: 10_000 }, (_, i) => `p${i}=1`).join('&')}`],
  ])('CB-08 %s: refused quickly, no token call, the pending login untouched', async (_name, mutate) => {
    const victim = await startLogin(rp, op);
    const before = await pendingStates(rp);
    const started = Date.now();
    const res = await victim.agent.get(mutate(victim.callbackPath));
    expect([400, 414, 431]).toContain(res.status);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(op.counters.token).toBe(0);
    expect(await pendingStates(rp)).toEqual(before);
  });

  it('CB-13 code injection: the attacker\'s code with the victim\'s state fails PKCE at the IdP; nothing stored, no userinfo', async () => {
    const attacker = await startLogin(rp, op);
    const victim = await startLogin(rp, op);
    const stolenCode = new URL(attacker.callbackUrl).searchParams.get('code') as string;
    const res = await victim.agent.get(tamper(victim.callbackUrl, { code: stolenCode }));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_GRANT');
    expect(op.tokenCalls.map((c) => c.result)).toEqual(['invalid_grant']);
    expect(op.counters.userinfo).toBe(0);
    await expectNotLoggedIn(rp, victim.agent);
  });

  it.each([['present'], ['absent']])('CB-16 an iss parameter %s while the IdP does not advertise RFC 9207: accepted', async (variant) => {
    op.behaviour.discoveryOverrides = { authorization_response_iss_parameter_supported: undefined };
    if (variant === 'absent') op.behaviour.issParam = 'missing';
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(302);
    await agent.get('/api/me').expect(200);
  });

  it.each([['id_token'], ['token'], ['response']])('CB-18 an injected %s parameter: refused before the token endpoint, nothing stored', async (name) => {
    const forged = await op.sign({ iss: op.issuer, sub: 'admin', aud: 'rp', exp: 9_999_999_999, iat: Math.floor(Date.now() / 1000) });
    op.behaviour.extraCallbackParams = { [name]: forged };
    const { res, agent } = await login(rp, op);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.headers.location).toBeUndefined();
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it.each([['put'], ['delete'], ['patch']] as const)('CB-19 %s /callback is not handled: no token call, the pending login stays', async (method) => {
    const victim = await startLogin(rp, op);
    const res = await victim.agent[method](victim.callbackPath);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(op.counters.token).toBe(0);
    await victim.agent.get(victim.callbackPath).expect(302);
  });

  it('CB-22 returnTo / redirect parameters appended to the callback are ignored', async () => {
    const victim = await startLogin(rp, op, '/login?returnTo=/profile');
    const res = await victim.agent.get(`${victim.callbackPath}&returnTo=https://evil.example&redirect=//evil.example&redirect_uri=https://evil.example`);
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe('/profile');
  });

  it('CB-23 a bare /callback (e.g. a fragment response that never reached the server): 400, not 500', async () => {
    const res = await request(rp.app).get('/callback');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
  });

  it('CB-24 error_description / error_uri payloads are never echoed', async () => {
    op.behaviour.authorizeError = { error: 'access_denied', error_description: '<img src=x onerror=alert(1)>', error_uri: 'javascript:alert(1)' };
    const { res } = await login(rp, op);
    expect(res.status).toBe(401);
    expect(res.text).not.toMatch(/onerror|javascript:/);
    expect(JSON.stringify(res.headers)).not.toMatch(/onerror|javascript:/);
  });

  it('CB-25 a state carrying CR/LF: 400, nothing reflected into the headers', async () => {
    const victim = await startLogin(rp, op);
    const res = await victim.agent.get(`/callback?code=x&state=abc%0d%0aSet-Cookie:%20evil=1%0d%0aX-Evil:%201`);
    expect(res.status).toBe(400);
    expect(res.headers['x-evil']).toBeUndefined();
    expect(JSON.stringify(res.headers['set-cookie'] ?? [])).not.toContain('evil');
    expect(op.counters.token).toBe(0);
  });
});
