import Koa from 'koa';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OidcEngine } from '../../lib/core/engine.js';
import { checkScopes, koaBearerBranch, requireBearer } from '../../lib/koa/require-bearer.js';
import type { BearerKoaState, BearerOptions } from '../../lib/koa/require-bearer.js';
import { parseChallenge } from '../helpers/api-app.js';
import { API, API_CLIENT, OPAQUE_API, startApiIdp } from '../helpers/api-idp.js';
import type { ApiIdp } from '../helpers/api-idp.js';

let api: ApiIdp;
let readToken: string;
let opaqueToken: string;

beforeAll(async () => {
  api = await startApiIdp();
  readToken = (await api.tokens('alice', { resource: API, scope: 'openid read:things' })).access_token;
  opaqueToken = (await api.tokens('bob', { resource: OPAQUE_API, scope: 'openid read:things write:things' })).access_token;
});
afterAll(async () => {
  await api?.close();
});

/** A tiny Koa API as a user would write it, with Koa's own error handling. */
function koaApp(options: Partial<BearerOptions> = {}) {
  const app = new Koa<BearerKoaState>();
  app.silent = true;
  app.use(requireBearer({ issuer: api.idp.issuer, audience: [API, OPAQUE_API], introspection: API_CLIENT, ...options }));
  app.use((ctx) => {
    if (ctx.path === '/write') checkScopes(ctx.state.auth!, ['write:things']);
    const { sub, clientId, scopes, scheme } = ctx.state.auth!;
    ctx.body = { sub, clientId, scopes, scheme };
  });
  return app.callback();
}

describe('requireBearer() for Koa', () => {
  it('sets ctx.state.auth for a JWT and for an introspected opaque token', async () => {
    const app = koaApp();
    const jwt = await request(app).get('/').set('Authorization', `Bearer ${readToken}`).expect(200);
    expect(jwt.body).toEqual({ sub: 'alice', clientId: 'web-app', scopes: ['read:things'], scheme: 'Bearer' });
    const opaque = await request(app).get('/').set('Authorization', `Bearer ${opaqueToken}`).expect(200);
    expect(opaque.body).toMatchObject({ sub: 'bob', scopes: ['read:things', 'write:things'] });
  });

  it('answers 401 with a bare challenge without a token; Koa sends the error headers as they are', async () => {
    const res = await request(koaApp()).get('/').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers.location).toBeUndefined();
    expect(res.text).toBe('An access token is required');
  });

  it('answers 401 invalid_token to a bad token and 400 invalid_request to a malformed header', async () => {
    const bad = await request(koaApp()).get('/').set('Authorization', `Bearer ${readToken.slice(0, -3)}abc`).expect(401);
    expect(parseChallenge(bad.headers['www-authenticate']).params).toMatchObject({ error: 'invalid_token', error_description: 'The access token signature is invalid' });
    const malformed = await request(koaApp()).get('/').set('Authorization', 'Bearer a b').expect(400);
    expect(parseChallenge(malformed.headers['www-authenticate']).params.error).toBe('invalid_request');
  });

  it('answers 403 insufficient_scope from requireBearer({ scopes }) and from checkScopes() in a handler', async () => {
    const guarded = await request(koaApp({ scopes: ['write:things'] })).get('/').set('Authorization', `Bearer ${readToken}`).expect(403);
    expect(parseChallenge(guarded.headers['www-authenticate']).params).toMatchObject({ error: 'insufficient_scope', scope: 'write:things' });
    const handler = await request(koaApp()).get('/write').set('Authorization', `Bearer ${readToken}`).expect(403);
    expect(parseChallenge(handler.headers['www-authenticate']).params.scope).toBe('write:things');
    await request(koaApp()).get('/write').set('Authorization', `Bearer ${opaqueToken}`).expect(200);
  });

  it('a Koa requireAuth({ bearer }) can use koaBearerBranch: token requests are decided here, the rest go on to the session', async () => {
    const engine = new OidcEngine({ issuer: api.idp.issuer, clientId: 'web-app', clientSecret: 'web-app-secret', baseUrl: 'http://127.0.0.1:3999' });
    const branch = koaBearerBranch(engine, { audience: API });
    expect(koaBearerBranch(engine, undefined)).toBeUndefined();
    const app = new Koa<BearerKoaState>();
    app.silent = true;
    app.use(async (ctx, next) => {
      if (await branch!(ctx as unknown as Koa.Context, next)) return;
      ctx.status = 401;
      ctx.body = 'session path';
    });
    app.use((ctx) => {
      ctx.body = { sub: ctx.state.auth?.sub };
    });
    const ok = await request(app.callback()).get('/').set('Authorization', `Bearer ${readToken}`).expect(200);
    expect(ok.body).toEqual({ sub: 'alice' });
    expect(ok.headers['cache-control']).toBe('no-store');
    await request(app.callback()).get('/').expect(401, 'session path');
    const bad = await request(app.callback()).get('/').set('Authorization', 'Bearer x.y.z').expect(401);
    expect(parseChallenge(bad.headers['www-authenticate']).params.error).toBe('invalid_token');
  });
});
