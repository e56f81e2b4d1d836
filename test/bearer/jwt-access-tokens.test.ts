import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireBearer, requireScopes } from '../../lib/express/index.js';
import type { BearerOptions } from '../../lib/express/index.js';
import { createApiApp, describeCaller, parseChallenge } from '../helpers/api-app.js';
import type { ExpressMajor } from '../helpers/api-app.js';
import { API, OPAQUE_API, startApiIdp } from '../helpers/api-idp.js';
import type { ApiIdp } from '../helpers/api-idp.js';

let api: ApiIdp;
let readToken: string;
let readWriteToken: string;
let idToken: string;
let opaqueToken: string;

beforeAll(async () => {
  api = await startApiIdp();
  readToken = (await api.tokens('alice', { resource: API, scope: 'openid read:things' })).access_token;
  const both = await api.tokens('bob', { resource: API, scope: 'openid read:things write:things' });
  readWriteToken = both.access_token;
  idToken = both.id_token as string;
  opaqueToken = (await api.tokens('alice', { resource: OPAQUE_API, scope: 'openid read:things' })).access_token;
});
afterAll(async () => {
  await api?.close();
});
beforeEach(() => api.idp.resetCounters());

function apiApp(options: Partial<BearerOptions> = {}, major: ExpressMajor = 5) {
  return createApiApp((app) => {
    app.use('/api', requireBearer({ issuer: api.idp.issuer, audience: API, scopes: ['read:things'], ...options }));
    app.get('/api/things', (req, res) => res.json(describeCaller(req)));
    app.post('/api/things', requireScopes('write:things'), (req, res) => res.json(describeCaller(req)));
  }, major);
}

describe.each([5, 4] as const)('requireBearer() with JWT access tokens from oidc-provider (Express %i)', (major) => {
  it('accepts the token and sets req.auth = { token, claims, scopes, clientId, sub }', async () => {
    const res = await request(apiApp({}, major)).get('/api/things').set('Authorization', `Bearer ${readToken}`).expect(200);
    expect(res.body).toEqual({ via: 'bearer', sub: 'alice', clientId: 'web-app', scopes: ['read:things'], scheme: 'Bearer', aud: API });
  });

  it('answers 401 with a bare Bearer challenge (no error attribute) when there is no token', async () => {
    const res = await request(apiApp({}, major)).get('/api/things').set('Accept', 'text/html').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.headers.location).toBeUndefined();
    expect(res.body.error).toBe('ERR_OIDC_MISSING_TOKEN');
  });

  it('treats another scheme (Basic) as no token: 401 without an error attribute', async () => {
    const res = await request(apiApp({ realm: 'things' }, major)).get('/api/things').set('Authorization', 'Basic YTpi').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="things"');
  });

  it.each([
    ['Bearer', 'no token'],
    ['Bearer    ', 'only spaces'],
    ['Bearer a b', 'two tokens'],
    ['Bearer tok"en', 'a quote'],
    ['Bearer =abc', 'padding first'],
  ])('answers 400 invalid_request to a malformed header (%s: %s)', async (header) => {
    const res = await request(apiApp({}, major)).get('/api/things').set('Authorization', header).expect(400);
    expect(parseChallenge(res.headers['www-authenticate'])).toMatchObject({ scheme: 'Bearer', params: { error: 'invalid_request' } });
    expect(res.body.error).toBe('ERR_OIDC_INVALID_REQUEST');
  });

  it('reads the scheme case-insensitively', async () => {
    await request(apiApp({}, major)).get('/api/things').set('Authorization', `bearer ${readToken}`).expect(200);
  });

  it('answers 403 insufficient_scope naming the missing scope', async () => {
    const app = apiApp({}, major);
    const res = await request(app).post('/api/things').set('Authorization', `Bearer ${readToken}`).expect(403);
    expect(parseChallenge(res.headers['www-authenticate'])).toEqual({
      scheme: 'Bearer',
      params: { error: 'insufficient_scope', error_description: 'The access token lacks the scope write:things', scope: 'write:things' },
    });
    expect(res.body.error).toBe('ERR_OIDC_INSUFFICIENT_SCOPE');
    const ok = await request(app).post('/api/things').set('Authorization', `Bearer ${readWriteToken}`).expect(200);
    expect(ok.body.scopes).toEqual(['read:things', 'write:things']);
  });

  it('checks the scopes of requireBearer({ scopes }) on every route', async () => {
    const app = apiApp({ scopes: ['read:things', 'admin'] }, major);
    const res = await request(app).get('/api/things').set('Authorization', `Bearer ${readWriteToken}`).expect(403);
    expect(parseChallenge(res.headers['www-authenticate']).params.scope).toBe('read:things admin');
  });

  it('refuses an ID token (another audience) and an opaque token without introspection', async () => {
    const app = apiApp({}, major);
    const id = await request(app).get('/api/things').set('Authorization', `Bearer ${idToken}`).expect(401);
    expect(parseChallenge(id.headers['www-authenticate']).params).toMatchObject({ error: 'invalid_token', error_description: 'The access token is meant for another audience' });
    const opaque = await request(app).get('/api/things').set('Authorization', `Bearer ${opaqueToken}`).expect(401);
    expect(parseChallenge(opaque.headers['www-authenticate']).params.error_description).toMatch(/not a JWT/);
  });

  it('refuses a token for this API when another audience is configured', async () => {
    const res = await request(apiApp({ audience: 'https://other.example.test' }, major)).get('/api/things').set('Authorization', `Bearer ${readToken}`).expect(401);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_TOKEN');
  });

  it('accepts any of several audiences', async () => {
    await request(apiApp({ audience: ['https://other.example.test', API] }, major)).get('/api/things').set('Authorization', `Bearer ${readToken}`).expect(200);
  });

  it('passes strict RFC 9068 checks (typ at+jwt, all claims) with oidc-provider tokens', async () => {
    await request(apiApp({ strict: true }, major)).get('/api/things').set('Authorization', `Bearer ${readToken}`).expect(200);
  });
});

describe('requireBearer() and the IdP', () => {
  it('discovers once and fetches the JWKS once for many requests, lazily', async () => {
    const app = apiApp();
    expect(api.idp.counters.discovery).toBe(0);
    await Promise.all(Array.from({ length: 20 }, () => request(app).get('/api/things').set('Authorization', `Bearer ${readToken}`).expect(200)));
    expect(api.idp.counters.discovery).toBe(1);
    expect(api.idp.counters.jwks).toBe(1);
  });

  it('works with Express\'s default error handler: status and WWW-Authenticate, never a redirect', async () => {
    const app = express();
    app.use(requireBearer({ issuer: api.idp.issuer, audience: API }));
    app.get('/', (_req, res) => res.send('ok'));
    const none = await request(app).get('/').expect(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    const bad = await request(app).get('/').set('Authorization', 'Bearer abc.def.ghi').expect(401);
    expect(parseChallenge(bad.headers['www-authenticate']).params.error).toBe('invalid_token');
    await request(app).get('/').set('Authorization', `Bearer ${readToken}`).expect(200, 'ok');
  });

  it('validates the options at construction, naming the option', () => {
    expect(() => requireBearer({ issuer: api.idp.issuer } as BearerOptions)).toThrow(/requireBearer\(\): "audience" is required/);
    expect(() => requireBearer({ issuer: 'http://idp.example.com', audience: API })).toThrow(/"issuer" must use https/);
    expect(() => requireBearer({ issuer: api.idp.issuer, audience: API, algorithms: ['HS256'] })).toThrow(/"algorithms" must be .*asymmetric/);
    expect(() => requireBearer({ issuer: api.idp.issuer, audience: API, algorithms: ['none'] })).toThrow(/"algorithms"/);
    expect(() => requireBearer({ issuer: api.idp.issuer, audience: API, scopes: ['a b'] })).toThrow(/"scopes"/);
    expect(() => requireBearer({ issuer: api.idp.issuer, audience: API, jwksCooldwn: 1 } as BearerOptions)).toThrow(/unknown option "jwksCooldwn"/);
    expect(() => requireBearer({ issuer: api.idp.issuer, audience: API, introspection: { clientId: 'api' } } as BearerOptions)).toThrow(/"introspection.clientSecret"/);
    expect(() => requireBearer({ issuer: api.idp.issuer, audience: API, dpop: { require: true } } as BearerOptions)).toThrow(/unknown option "dpop.require"/);
    expect(() => requireBearer({ issuer: api.idp.issuer, audience: API, clockTolerance: 301 })).toThrow(/"clockTolerance" must be a number from 0 to 300/);
    expect(() => requireBearer({ issuer: `${api.idp.issuer}/.well-known/openid-configuration`, audience: API })).toThrow(/not its .well-known/);
  });
});
