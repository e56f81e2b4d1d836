/**
 * Issue 17: LemonLDAP::NG signs ID tokens with HS512 unless told otherwise. We refuse HS* (right), and the
 * message the app logs must say why: the algorithm that came, the one pinned, and the option to change.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';

let op: HostileOp;

beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(async () => {
  await op.close();
});
beforeEach(() => op.reset());

describe.each(ADAPTERS)('an ID token signed with an algorithm other than the pinned one (%s)', (adapter) => {
  it('answers 502 ERR_OIDC_INVALID_ID_TOKEN; the message names both algorithms and idTokenSigningAlg', async () => {
    op.behaviour.idToken = { alg: 'HS256', hs256Key: 'client_secret' } as never;
    const rp = createRp(adapter, { issuer: op.issuer, jwksCooldown: 0 });
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const res = await agent.get(localPath(await op.authorize(start.headers.location as string)));
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_ID_TOKEN');
    // 502 is not exposed: the explanation is for the app's logs, not the visitor.
    expect(JSON.stringify(res.body)).not.toMatch(/HS256/);
    expect(rp.errors).toHaveLength(1);
    expect(rp.errors[0]?.message).toMatch(/signed the ID token with HS256, but the oidc\(\) option idTokenSigningAlg is RS256/);
  });

  it('names the pinned algorithm when it is not the default (ES256 pinned, RS256 sent)', async () => {
    const rp = createRp(adapter, { issuer: op.issuer, jwksCooldown: 0, idTokenSigningAlg: 'ES256' });
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    const res = await agent.get(localPath(await op.authorize(start.headers.location as string)));
    expect(res.status).toBe(502);
    expect(rp.errors[0]?.message).toMatch(/with RS256, but the oidc\(\) option idTokenSigningAlg is ES256/);
  });
});
