import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimCheck, claimEquals, claimIncludes, requireBearer, requireRoles, requireScopes } from '../../lib/koa/index.js';
import type { BearerKoaState } from '../../lib/koa/index.js';
import { parseChallenge } from '../helpers/api-app.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';

const API = 'https://api.example.test';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

function token(extra: Record<string, unknown> = {}): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return op.sign({ iss: op.issuer, aud: API, sub: 'user-1', client_id: 'spa', scope: 'read:things', iat, exp: iat + 300, jti: randomUUID(), ...extra }, { typ: 'at+jwt' });
}

/** A Koa API without oidc(): requireBearer() then the guards, with Koa's own error handling. */
function api() {
  const app = new Koa<BearerKoaState>();
  app.silent = true;
  app.use(requireBearer({ issuer: op.issuer, audience: API }));
  const router = new Router<BearerKoaState>();
  const ok = (ctx: Koa.Context) => {
    ctx.body = { sub: ctx.state.auth?.sub };
  };
  router.get('/admin', requireRoles('admin'), ok);
  router.get('/tenant', claimEquals('https://example.test/tenant', 'acme'), ok);
  router.get('/groups', claimIncludes('realm_access.roles', 'editor'), ok);
  router.get('/mine', claimCheck((user, ctx) => user.sub === ctx.query.owner), ok);
  router.get('/write', requireScopes('write:things'), ok);
  app.use(router.routes());
  return app.callback();
}

describe('Koa guards after requireBearer() judge the token', () => {
  it('requireRoles reads the token\'s roles claim: 403 with an insufficient_scope challenge when missing', async () => {
    const app = api();
    await request(app).get('/admin').set('Authorization', `Bearer ${await token({ roles: ['admin'] })}`).expect(200);
    const res = await request(app).get('/admin').set('Authorization', `Bearer ${await token({ roles: ['user'] })}`).expect(403);
    expect(parseChallenge(res.headers['www-authenticate'])).toMatchObject({ scheme: 'Bearer', params: { error: 'insufficient_scope' } });
  });

  it('claimEquals, claimIncludes and claimCheck over the token claims', async () => {
    const app = api();
    await request(app).get('/tenant').set('Authorization', `Bearer ${await token({ 'https://example.test/tenant': 'acme' })}`).expect(200);
    await request(app).get('/tenant').set('Authorization', `Bearer ${await token({ 'https://example.test/tenant': 'evil' })}`).expect(403);
    await request(app).get('/groups').set('Authorization', `Bearer ${await token({ realm_access: { roles: ['editor'] } })}`).expect(200);
    await request(app).get('/groups').set('Authorization', `Bearer ${await token({ realm_access: { roles: ['viewer'] } })}`).expect(403);
    await request(app).get('/mine?owner=user-1').set('Authorization', `Bearer ${await token()}`).expect(200);
    await request(app).get('/mine?owner=someone').set('Authorization', `Bearer ${await token()}`).expect(403);
  });

  it('requireScopes checks the token\'s scopes: 403 insufficient_scope naming the scope', async () => {
    const app = api();
    const res = await request(app).get('/write').set('Authorization', `Bearer ${await token()}`).expect(403);
    expect(parseChallenge(res.headers['www-authenticate']).params).toMatchObject({ error: 'insufficient_scope', scope: 'write:things' });
    await request(app).get('/write').set('Authorization', `Bearer ${await token({ scope: 'read:things write:things' })}`).expect(200);
  });
});
