import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp, SignHeader } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function loggedIn(rp: RpApp) {
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  const login = op.logins.at(-1);
  return { agent, sid: login?.sid as string, sub: login?.sub as string };
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  const base: Record<string, unknown> = {
    iss: op.issuer, aud: 'rp', iat: now, exp: now + 120, jti: randomUUID(), events: { [EVENT]: {} }, sub: 'user-1', ignored_claim: 1,
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

async function post(rp: RpApp, token: string) {
  return request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: token, ignored_parameter: 'x' });
}

describe.each(ADAPTERS)('POST /backchannel-logout (%s)', (adapter) => {
  let rp: RpApp;
  beforeEach(() => {
    rp = createRp(adapter, { issuer: op.issuer, backchannelLogout: true });
  });

  it('destroys the session named by sid in the store: 200 no-store, the next request is logged out', async () => {
    const victim = await loggedIn(rp);
    const other = await loggedIn(rp);
    const res = await post(rp, await op.sign(claims({ sid: victim.sid, sub: undefined })));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toContain('no-store');
    await victim.agent.get('/api/me').expect(401);
    await other.agent.get('/api/me').expect(200);
  });

  it('a sub-only token ends every session of that user', async () => {
    const one = await loggedIn(rp);
    const two = await loggedIn(rp);
    await post(rp, await op.sign(claims({ sub: one.sub }))).then((r) => expect(r.status).toBe(200));
    await one.agent.get('/api/me').expect(401);
    await two.agent.get('/api/me').expect(401);
  });

  it('answers 200 for a user with no session (already logged out)', async () => {
    const res = await post(rp, await op.sign(claims({ sid: 'unknown-sid', sub: undefined })));
    expect(res.status).toBe(200);
  });

  const bad: Array<[string, Record<string, unknown>, SignHeader?]> = [
    ['alg none', {}, { alg: 'none' }],
    ['HS256 keyed with the client secret', {}, { alg: 'HS256', key: 'secret' }],
    ['ES256 when RS256 is pinned', {}, { alg: 'ES256', key: 'es' }],
    ['a key outside the JWKS', {}, { key: 'other-rs' }],
    ['no events claim', { events: undefined }],
    ['a wrong event', { events: { 'http://schemas.openid.net/event/foobar': {} } }],
    ['a nonce', { nonce: 'n' }],
    ['a wrong aud', { aud: 'rp1' }],
    ['a wrong iss', { iss: 'WRONG_ISS' }],
    ['neither sub nor sid', { sub: undefined, sid: undefined }],
    ['an expired exp', { exp: Math.floor(Date.now() / 1000) - 600 }],
    ['an iat ten minutes ahead', { iat: Math.floor(Date.now() / 1000) + 600 }],
    ['an iat an hour old', { iat: Math.floor(Date.now() / 1000) - 3600 }],
    ['no jti', { jti: undefined }],
    ['typ at+jwt', {}, { typ: 'at+jwt' }],
  ];
  it.each(bad)('rejects a logout token with %s: 400, sessions untouched', async (_name, overrides, header) => {
    const user = await loggedIn(rp);
    const payload = claims({ sid: user.sid, ...overrides });
    if (payload.iss === 'WRONG_ISS') payload.iss = op.issuer + '1';
    const res = await post(rp, await op.sign(payload, header));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    await user.agent.get('/api/me').expect(200);
  });

  it('rejects a replayed jti', async () => {
    await loggedIn(rp);
    const token = await op.sign(claims({ jti: 'same-jti' }));
    expect((await post(rp, token)).status).toBe(200);
    const replay = await post(rp, token);
    expect(replay.status).toBe(400);
    expect(replay.body.error_description).toMatch(/replay/);
  });

  it('rejects an ID token posted as a logout token', async () => {
    const user = await loggedIn(rp);
    const idToken = (Object.values(await rp.sessions())[0] as { oidc: { auth: { idToken: string } } }).oidc.auth.idToken;
    expect((await post(rp, idToken)).status).toBe(400);
    await user.agent.get('/api/me').expect(200);
  });

  it('answers 405 to GET and 400 to a missing, repeated or JSON logout_token', async () => {
    expect((await request(rp.app).get('/backchannel-logout')).status).toBe(405);
    expect((await request(rp.app).post('/backchannel-logout').type('form').send('x=1')).status).toBe(400);
    const token = await op.sign(claims());
    expect((await request(rp.app).post('/backchannel-logout').type('form').send(`logout_token=${token}&logout_token=${token}`)).status).toBe(400);
    expect((await request(rp.app).post('/backchannel-logout').send({ logout_token: token })).status).toBe(400);
  });

  it('answers 400 (so the IdP retries) when the JWKS is unavailable', async () => {
    rp = createRp(adapter, { issuer: op.issuer, backchannelLogout: true, jwksCooldown: 0 });
    const user = await loggedIn(rp);
    await op.rotateKeys();
    op.behaviour.jwksStatus = 500;
    expect((await post(rp, await op.sign(claims({ sid: user.sid })))).status).toBe(400);
    await user.agent.get('/api/me').expect(200);
  });

  it('is not mounted unless backchannelLogout is true', async () => {
    const plain = createRp(adapter, { issuer: op.issuer });
    expect((await post(plain, await op.sign(claims()))).status).toBe(404);
  });
});
