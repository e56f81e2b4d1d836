/**
 * Issue 12, defect 4: a logout token without `exp` was accepted, and replayable. Back-Channel Logout 1.0
 * (errata set 1) makes `exp` required; a token whose `iat` is ahead of our clock (within tolerance) was
 * replayed after its `jti` was forgotten and destroyed the user's next session. Checklist BCL-11, BCL-12.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
const TOLERANCE = 60;
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function loggedIn(rp: RpApp): Promise<{ agent: request.Agent; sub: string }> {
  const agent = request.agent(rp.app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return { agent, sub: op.logins.at(-1)?.sub as string };
}

function logoutToken(sub: string, claims: Record<string, unknown>): Promise<string> {
  const payload: Record<string, unknown> = { iss: op.issuer, aud: 'rp', jti: randomUUID(), events: { [EVENT]: {} }, sub, ...claims };
  for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key];
  return op.sign(payload, { typ: 'logout+jwt' });
}

function post(rp: RpApp, token: string) {
  return request(rp.app).post('/backchannel-logout').type('form').send({ logout_token: token });
}

describe.each(ADAPTERS)('issue 12 defect 4: logout tokens need exp, and their jti is kept while they could be accepted (%s)', (adapter) => {
  // The RP's clock stands still unless a test moves it: a loaded machine must not move a window's edge.
  let startMs: number;
  let offsetMs: number;
  let rp: RpApp;
  beforeEach(() => {
    startMs = Date.now();
    offsetMs = 0;
    rp = createRp(adapter, { issuer: op.issuer, backchannelLogout: true, clockTolerance: TOLERANCE, clock: () => startMs + offsetMs });
  });

  it('BCL-11 a logout token without exp (iat ahead of our clock, within tolerance): 400, the session lives on', async () => {
    const user = await loggedIn(rp);
    const res = await post(rp, await logoutToken(user.sub, { iat: Math.floor(startMs / 1000) + TOLERANCE - 5, exp: undefined }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'The logout token has no "exp"' });
    await user.agent.get('/api/me').expect(200);
  });

  it('BCL-12 a token with iat ahead and a far exp, replayed at the last moment it would pass: 400, the next session lives on', async () => {
    const nowSec = Math.floor(startMs / 1000);
    const iat = nowSec + TOLERANCE - 5;
    const token = await logoutToken('user-1', { iat, exp: iat + 3600 });
    const first = await loggedIn(rp);
    expect((await post(rp, token)).status).toBe(200);
    await first.agent.get('/api/me').expect(401);
    // The user logs in again; minutes later, the captured token comes back while its iat still passes.
    const next = await loggedIn(rp);
    offsetMs = (iat + 300 + TOLERANCE - nowSec - 2) * 1000;
    const replay = await post(rp, token);
    expect(replay.status).toBe(400);
    expect(replay.body.error_description).toMatch(/replay/);
    offsetMs = 0;
    await next.agent.get('/api/me').expect(200);
  });

  it('a token past its acceptance window is refused on its own claims, whether or not its jti is still known', async () => {
    const nowSec = Math.floor(startMs / 1000);
    const token = await logoutToken('user-1', { iat: nowSec, exp: nowSec + 30 });
    expect((await post(rp, token)).status).toBe(200);
    offsetMs = (30 + TOLERANCE + 2) * 1000;
    const late = await post(rp, token);
    expect(late.status).toBe(400);
    expect(late.body.error_description).toBe('The logout token has expired ("exp")');
  });
});
