/**
 * Issue 12, defect 3: an ID token was accepted as an access token. `requireAuth({ bearer: true })` refused
 * an ID token only when it carried `nonce`; a refreshed ID token (no nonce, OIDC Core §12.2) got 200. The
 * rule now (lib/core/bearer/jwt.ts, README "What is checked"): ID-token-only claims (nonce, at_hash,
 * c_hash, s_hash, a Keycloak `typ: "ID"` claim) are refused whatever the typ; without `typ: at+jwt` a
 * token must carry client_id, scope or scp.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseChallenge } from '../helpers/api-app.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp, SignHeader } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { RpApp, TestRoute } from '../helpers/rp-app.js';

const API = 'https://api.example.test';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const ROUTES: TestRoute[] = [
  { method: 'get', path: '/api/self', guard: { bearer: true }, handler: (v) => ({ via: v.auth ? 'bearer' : 'session', sub: v.auth?.sub ?? v.user?.sub }) },
  { method: 'get', path: '/api/data', guard: { bearer: { audience: API } }, handler: (v) => ({ via: v.auth ? 'bearer' : 'session' }) },
];

function jwt(claims: Record<string, unknown>, header: SignHeader = {}): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = { iss: op.issuer, aud: 'rp', sub: 'user-1', iat, exp: iat + 300, ...claims };
  for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key];
  return op.sign(payload, header);
}

async function call(rp: RpApp, path: string, token: string): Promise<request.Response> {
  return request(rp.app).get(path).set('Accept', 'application/json').set('Authorization', `Bearer ${token}`);
}

function expectIdTokenRefused(res: request.Response): void {
  expect(res.status).toBe(401);
  expect(res.body.error).toBe('ERR_OIDC_INVALID_TOKEN');
  expect(parseChallenge(res.headers['www-authenticate']).params.error).toBe('invalid_token');
}

describe.each(ADAPTERS)('issue 12 defect 3: an ID token is never an access token (%s)', (adapter) => {
  let offsetMs: number;
  let rp: RpApp;
  beforeEach(() => {
    offsetMs = 0;
    rp = createRp(adapter, { issuer: op.issuer, clock: () => Date.now() + offsetMs }, ROUTES);
  });

  it('the refreshed ID token of a real session (no nonce) is refused by requireAuth({ bearer: true })', async () => {
    op.behaviour.accessTokenTtl = 5;
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    offsetMs = 10_000;
    await agent.get('/api/me').expect(200);
    expect(op.tokenCalls.map((c) => c.grantType)).toEqual(['authorization_code', 'refresh_token']);
    const stored = Object.values(await rp.sessions()).map((s) => (s as { oidc?: { auth?: { idToken: string } } }).oidc?.auth?.idToken);
    const refreshed = stored.find((t): t is string => t !== undefined) as string;
    const claims = JSON.parse(Buffer.from(refreshed.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;
    expect(claims.nonce).toBeUndefined();
    expect(claims.aud).toBe('rp');
    expectIdTokenRefused(await call(rp, '/api/self', refreshed));
  });

  it.each<[string, Record<string, unknown>, SignHeader?]>([
    ['with a nonce', { nonce: 'n-1', auth_time: 1 }],
    ['without nonce, with auth_time and sid (a refreshed one)', { auth_time: Math.floor(Date.now() / 1000) - 60, sid: 'sid-1' }],
    ['with at_hash, even typed at+jwt', { at_hash: 'abc', client_id: 'rp', scope: 'openid' }, { typ: 'at+jwt' }],
    ['with c_hash', { c_hash: 'abc', scope: 'openid' }],
    ['marked typ: "ID" (Keycloak)', { typ: 'ID', azp: 'rp', scope: 'openid' }, { typ: 'JWT' }],
    ['without any claim (no typ header)', {}, {}],
  ])('an ID token %s: 401 invalid_token', async (_name, claims, header) => {
    expectIdTokenRefused(await call(rp, '/api/self', await jwt(claims, header)));
  });

  it('an ID token of a client whose id is the API audience (Entra ID style): refused by the bearer side with that audience', async () => {
    expectIdTokenRefused(await call(rp, '/api/data', await jwt({ aud: API, auth_time: 1 })));
  });

  it.each<[string, Record<string, unknown>, SignHeader]>([
    ['RFC 9068: typ at+jwt', { client_id: 'spa', jti: randomUUID() }, { typ: 'at+jwt' }],
    ['typ JWT with scope and auth_time (Keycloak, Auth0)', { scope: 'read', azp: 'spa', auth_time: 1, typ: 'Bearer' }, { typ: 'JWT' }],
    ['no typ header, scp (Okta)', { scp: ['read'], cid: 'spa' }, {}],
  ])('an access token, %s: 200', async (_name, claims, header) => {
    const res = await call(rp, '/api/self', await jwt(claims, header));
    expect([res.status, res.body]).toEqual([200, { via: 'bearer', sub: 'user-1' }]);
  });
});
