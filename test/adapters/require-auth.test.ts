// requireAuth(): anonymous browsers and API calls, expired logins, both adapters.
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath, loggedInAgent } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

describe.each(ADAPTERS)('requireAuth (%s)', (adapter) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRp(adapter, { issuer: op.issuer });
  });

  it('sends an anonymous browser to log in and back to the page it asked for', async () => {
    const agent = request.agent(rp.app);
    const res = await agent.get('/profile?x=1').set('Accept', 'text/html').expect(302);
    expect(new URL(res.headers.location as string).origin).toBe(op.issuer);
    const done = await agent.get(localPath(await op.authorize(res.headers.location as string))).expect(302);
    expect(done.headers.location).toBe('/profile?x=1');
    const profile = await agent.get('/profile').expect(200);
    expect(profile.body.sub).toBe('user-1');
  });

  it.each([
    ['JSON', { Accept: 'application/json' }],
    ['XHR', { Accept: 'text/html', 'X-Requested-With': 'XMLHttpRequest' }],
    ['fetch()', { Accept: 'text/html', 'Sec-Fetch-Mode': 'cors' }],
  ])('answers 401 with WWW-Authenticate to a %s request, never a redirect', async (_name, headers) => {
    const res = await request(rp.app).get('/profile').set(headers);
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm=/);
    expect(res.body.error).toBe('ERR_OIDC_UNAUTHENTICATED');
  });

  it('answers 401 to an anonymous POST even when it accepts HTML', async () => {
    const res = await request(rp.app).post('/api/things').set('Accept', 'text/html');
    expect(res.status).toBe(401);
  });

  it('ignores identity headers a client sends', async () => {
    const res = await request(rp.app).get('/api/me').set('X-User', 'admin').set('Authorization', 'Bearer eyJhbGciOiJub25lIn0.e30.');
    expect(res.status).toBe(401);
  });

  it('gives req.user = ID token claims + userinfo, without protocol claims', async () => {
    op.behaviour.userinfoClaims = { favourite_colour: 'green' };
    const agent = await loggedInAgent(rp, op);
    const { body } = await agent.get('/api/me').expect(200);
    expect(body.user).toMatchObject({ sub: 'user-1', iss: op.issuer, favourite_colour: 'green' });
    for (const claim of ['aud', 'nonce', 'at_hash', 'exp', 'iat']) expect(body.user).not.toHaveProperty(claim);
    expect(typeof body.expiresAt).toBe('number');
  });

  it('changes the session id at login (fixation) and removes the old session', async () => {
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const before = Object.keys(await rp.sessions());
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const after = Object.keys(await rp.sessions());
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
  });

  it('ends the login after absoluteDuration whatever the activity', async () => {
    let now = Date.now();
    rp = createRp(adapter, { issuer: op.issuer, absoluteDuration: 3600, clock: () => now });
    const agent = await loggedInAgent(rp, op);
    now += 3599_000;
    await agent.get('/api/me').expect(200);
    now += 2_000;
    await agent.get('/api/me').expect(401);
  });
});
