/**
 * Security checklist CB-20 / ERR-07 (response_mode=form_post): the POST callback's body handling, the
 * 303 after a POST, and the same-origin re-post page that an attacker can make the RP render.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp, EXPRESS_MAJORS } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { expectNotLoggedIn, pendingStates, startLogin } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** The IdP's answer as the form body it would POST (our hostile OP always answers in the query). */
function formOf(callbackUrl: string): string {
  return new URL(callbackUrl).searchParams.toString();
}

describe.each(EXPRESS_MAJORS)('form_post callback (Express %i)', (major) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRpApp({ issuer: op.issuer, responseMode: 'form_post' }, major);
  });

  it('CB-20 a good POST callback answers 303 (never 307), no-store, no-referrer', async () => {
    const { agent, callbackUrl } = await startLogin(rp, op);
    const res = await agent.post('/callback').type('form').send(formOf(callbackUrl));
    expect(res.status).toBe(303);
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    await agent.get('/api/me').expect(200);
  });

  it.each([
    ['application/json', (body: string) => JSON.stringify(Object.fromEntries(new URLSearchParams(body)))],
    ['text/plain', (body: string) => body],
    ['multipart/form-data; boundary=x', (body: string) => `--x\r\nContent-Disposition: form-data; name="code"\r\n\r\n${new URLSearchParams(body).get('code')}\r\n--x--`],
  ])('CB-20 a POST callback with Content-Type %s: 400, no token call, the pending login kept', async (type, encode) => {
    const { agent, callbackUrl } = await startLogin(rp, op);
    const before = await pendingStates(rp);
    const res = await agent.post('/callback').set('Content-Type', type).send(encode(formOf(callbackUrl)));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(op.counters.token).toBe(0);
    expect(await pendingStates(rp)).toEqual(before);
  });

  it.each([
    ['16 KB', 16 * 1024],
    ['100 KB', 100 * 1024],
  ])('CB-20 a %s body is refused: no token call, no login', async (_name, size) => {
    const { agent, callbackUrl } = await startLogin(rp, op);
    const res = await agent.post('/callback').type('form').send(`${formOf(callbackUrl)}&pad=${'p'.repeat(size)}`);
    expect([400, 413]).toContain(res.status);
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });

  it('CB-20 on a POST callback, a code in the query string is never redeemed', async () => {
    const attacker = await startLogin(rp, op);
    const attackerCode = new URL(attacker.callbackUrl).searchParams.get('code') as string;
    const { agent, callbackUrl } = await startLogin(rp, op);
    const res = await agent.post(`/callback?code=${attackerCode}`).type('form').send(formOf(callbackUrl));
    expect(res.status).toBeLessThan(500);
    expect(op.tokenCalls.map((c) => c.params.code)).not.toContain(attackerCode);
  });

  it('CB-20 / CB-21 the re-post page for a cookie-less POST escapes every value and is not cacheable or frameable', async () => {
    const payload = '"><script>alert(1)</script>';
    const res = await request(rp.app)
      .post('/callback')
      .type('form')
      .send(new URLSearchParams({ code: payload, state: payload, [`x"><img src=x onerror=alert(1)>`]: '1' }).toString());
    expect(res.status).toBe(200);
    expect(res.text).not.toContain('<script>alert');
    expect(res.text).not.toContain('<img');
    expect(res.headers['cache-control']).toContain('no-store');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(Object.keys(await rp.sessions())).toHaveLength(0);
  });

  it('CB-21 a re-posted callback that still finds no pending login is a 400, never a second re-post page', async () => {
    const res = await request(rp.app).post('/callback').type('form').send('code=x&state=y&oidc_resubmit=1');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_NO_SESSION_COOKIE');
    expect(op.counters.token).toBe(0);
  });

  it('ERR-07 a form_post error (login_required): error answer, no token call, no session', async () => {
    op.behaviour.authorizeError = { error: 'login_required' };
    const { agent, callbackUrl } = await startLogin(rp, op);
    const res = await agent.post('/callback').type('form').send(formOf(callbackUrl));
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_ACCESS_DENIED');
    expect(op.counters.token).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });
});
