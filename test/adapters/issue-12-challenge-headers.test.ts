/**
 * Issue 12, defect 2: RFC 6750 challenges lost by the app's error handler. The WWW-Authenticate header and
 * `Cache-Control: no-store` of every bearer refusal (requireBearer(), the bearer side of
 * requireAuth({ bearer }), the guards after them) must reach the client whatever the app's error handler
 * does with `err.headers`: a JSON handler that ignores them, Express's default handler, a Koa try/catch
 * error middleware, Koa's default handler. The session side's 401 and step-up challenge too.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseChallenge } from '../helpers/api-app.js';
import { ERROR_VARIANTS, variantApp } from '../helpers/app-variants.js';
import type { AppVariant, VariantRoute } from '../helpers/app-variants.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { localPath } from '../helpers/rp-app.js';

const API = 'https://api.example.test';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

function accessToken(claims: Record<string, unknown> = {}): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return op.sign({ iss: op.issuer, aud: API, sub: 'user-1', client_id: 'spa', scope: 'read', iat, exp: iat + 300, jti: randomUUID(), ...claims }, { typ: 'at+jwt' });
}

function routes(): VariantRoute[] {
  return [
    { method: 'get', path: '/bearer', guards: (k) => [k.requireBearer({ issuer: op.issuer, audience: API })] },
    { method: 'get', path: '/bearer/write', guards: (k) => [k.requireBearer({ issuer: op.issuer, audience: API }), k.requireScopes('write')] },
    { method: 'get', path: '/either', guards: (k) => [k.requireAuth({ bearer: { audience: API } })] },
    { method: 'get', path: '/either/admin', guards: (k) => [k.requireAuth({ bearer: { audience: API } }), k.requireRoles('admin')] },
    { method: 'get', path: '/page', guards: (k) => [k.requireAuth()] },
    { method: 'get', path: '/strong', guards: (k) => [k.requireAuth({ acrValues: 'gold' })] },
  ];
}

function app(variant: AppVariant) {
  return variantApp({ ...variant, oidc: { issuer: op.issuer }, routes: routes() });
}

/** The challenge and no-store reached the client, whatever the body looks like. */
function expectChallenge(res: request.Response, status: number, scheme: string, error?: string): void {
  expect(res.status).toBe(status);
  const challenge = parseChallenge(res.headers['www-authenticate']);
  expect(challenge.scheme).toBe(scheme);
  expect(challenge.params.error).toBe(error);
  expect(res.headers['cache-control']).toContain('no-store');
}

describe.each(ERROR_VARIANTS)('issue 12 defect 2: challenges survive the app error handler ($name)', (variant) => {
  it('requireBearer(): no token 401 (bare challenge), bad token 401 invalid_token, missing scope 403 insufficient_scope', async () => {
    const rs = app(variant);
    expect((await request(rs).get('/bearer')).headers['www-authenticate']).toBe('Bearer');
    expectChallenge(await request(rs).get('/bearer'), 401, 'Bearer');
    expectChallenge(await request(rs).get('/bearer').set('Authorization', 'Bearer abc.def.ghi'), 401, 'Bearer', 'invalid_token');
    expectChallenge(await request(rs).get('/bearer').set('Authorization', 'Bearer'), 400, 'Bearer', 'invalid_request');
    const write = await request(rs).get('/bearer/write').set('Authorization', `Bearer ${await accessToken()}`);
    expectChallenge(write, 403, 'Bearer', 'insufficient_scope');
    expect(parseChallenge(write.headers['www-authenticate']).params.scope).toBe('write');
    const ok = await request(rs).get('/bearer').set('Authorization', `Bearer ${await accessToken()}`);
    expect([ok.status, ok.body]).toEqual([200, { via: 'bearer', sub: 'user-1', scheme: 'Bearer' }]);
  });

  it('requireAuth({ bearer }) and the role guard after it: 401 invalid_token, 403 insufficient_scope', async () => {
    const rs = app(variant);
    expectChallenge(await request(rs).get('/either').set('Authorization', `Bearer ${await accessToken({ aud: 'https://other.example.test' })}`), 401, 'Bearer', 'invalid_token');
    expectChallenge(await request(rs).get('/either/admin').set('Authorization', `Bearer ${await accessToken()}`), 403, 'Bearer', 'insufficient_scope');
    await request(rs).get('/either/admin').set('Authorization', `Bearer ${await accessToken({ roles: ['admin'] })}`).expect(200);
  });

  it('the session side: 401 with a Bearer challenge for an anonymous API call, the step-up challenge for a weak login', async () => {
    const rs = app(variant);
    const anonymous = await request(rs).get('/page').set('Accept', 'application/json');
    expect(anonymous.status).toBe(401);
    expect(parseChallenge(anonymous.headers['www-authenticate']).scheme).toBe('Bearer');
    const agent = request.agent(rs);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const weak = await agent.get('/strong').set('Accept', 'application/json');
    expect(weak.status).toBe(401);
    expect(parseChallenge(weak.headers['www-authenticate']).params.error).toBe('insufficient_user_authentication');
    expect(weak.headers['cache-control']).toContain('no-store');
  });
});
