import * as client from 'openid-client';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { requireBearer } from '../../lib/express/index.js';
import type { BearerOptions } from '../../lib/express/index.js';
import { createApiApp, describeCaller, parseChallenge } from '../helpers/api-app.js';
import { API, API_CLIENT, OPAQUE_API, startApiIdp } from '../helpers/api-idp.js';
import type { ApiIdp } from '../helpers/api-idp.js';

let api: ApiIdp;

beforeAll(async () => {
  api = await startApiIdp([
    { client_id: 'api-post', client_secret: 'api-post-secret', token_endpoint_auth_method: 'client_secret_post', redirect_uris: [], grant_types: [], response_types: [] },
  ]);
});
afterAll(async () => {
  await api?.close();
});
beforeEach(() => api.idp.resetCounters());

function opaqueToken(user = 'alice', scope = 'openid read:things'): Promise<client.TokenEndpointResponse> {
  return api.tokens(user, { resource: OPAQUE_API, scope });
}

function apiApp(options: Partial<BearerOptions> = {}) {
  return createApiApp((app) => {
    app.use('/api', requireBearer({ issuer: api.idp.issuer, audience: OPAQUE_API, introspection: API_CLIENT, scopes: ['read:things'], ...options }));
    app.get('/api/things', (req, res) => res.json({ ...describeCaller(req), active: req.auth?.claims.active }));
  });
}

const get = (app: ReturnType<typeof apiApp>, token: string) => request(app).get('/api/things').set('Authorization', `Bearer ${token}`);

describe('opaque access tokens through introspection (RFC 7662)', () => {
  it('accepts an active token for this audience; claims are the introspection response', async () => {
    const { access_token } = await opaqueToken();
    expect(access_token.split('.')).toHaveLength(1);
    const res = await get(apiApp(), access_token).expect(200);
    expect(res.body).toEqual({ via: 'bearer', sub: 'alice', clientId: 'web-app', scopes: ['read:things'], scheme: 'Bearer', aud: OPAQUE_API, active: true });
  });

  it('caches a positive answer: 5 sequential and 10 concurrent requests cost one introspection', async () => {
    const { access_token } = await opaqueToken();
    const app = apiApp();
    api.idp.resetCounters();
    for (let i = 0; i < 5; i++) await get(app, access_token).expect(200);
    const other = (await opaqueToken('bob')).access_token;
    api.idp.resetCounters();
    await Promise.all(Array.from({ length: 10 }, () => get(app, other).expect(200)));
    expect(api.idp.counters.introspection).toBe(1);
  });

  it('cacheTtl 0 asks every time, and a revoked token is refused at once', async () => {
    const tokens = await opaqueToken();
    const app = apiApp({ introspection: { ...API_CLIENT, cacheTtl: 0 } });
    await get(app, tokens.access_token).expect(200);
    await client.tokenRevocation(api.config, tokens.access_token);
    const res = await get(app, tokens.access_token).expect(401);
    expect(parseChallenge(res.headers['www-authenticate']).params).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(/not active/) });
    expect(api.idp.counters.introspection).toBe(2);
  });

  it('with the cache, a revoked token is accepted until the cache entry ends (cacheTtl seconds)', async () => {
    let now = Date.now();
    const tokens = await opaqueToken();
    const app = apiApp({ introspection: { ...API_CLIENT, cacheTtl: 30 }, clock: () => now });
    await get(app, tokens.access_token).expect(200);
    await client.tokenRevocation(api.config, tokens.access_token);
    now += 29_000;
    await get(app, tokens.access_token).expect(200);
    now += 2_000;
    await get(app, tokens.access_token).expect(401);
  });

  it('never caches past the token\'s exp', async () => {
    const short = await startApiIdp([], { accessTokenTtl: 5 });
    try {
      const { access_token } = await short.tokens('alice', { resource: OPAQUE_API, scope: 'openid read:things' });
      let now = Date.now();
      const app = createApiApp((a) => {
        a.use(requireBearer({ issuer: short.idp.issuer, audience: OPAQUE_API, introspection: { ...API_CLIENT, cacheTtl: 300 }, clockTolerance: 0, clock: () => now }));
        a.get('/', (_req, res) => res.json({ ok: true }));
      });
      await request(app).get('/').set('Authorization', `Bearer ${access_token}`).expect(200);
      now += 6_000;
      // the IdP (real time) still says active; our clock says the token has expired, and the cache agrees
      const res = await request(app).get('/').set('Authorization', `Bearer ${access_token}`).expect(401);
      expect(parseChallenge(res.headers['www-authenticate']).params.error_description).toMatch(/expired/);
      expect(short.idp.counters.introspection).toBe(2);
    } finally {
      await short.close();
    }
  });

  it('refuses an active token for another audience', async () => {
    const { access_token } = await opaqueToken();
    const res = await get(apiApp({ audience: 'https://reports.example.test' }), access_token).expect(401);
    expect(parseChallenge(res.headers['www-authenticate']).params.error_description).toMatch(/another audience/);
  });

  it('refuses a refresh token (active at the IdP, but no audience and not an access token)', async () => {
    const { refresh_token } = await opaqueToken();
    expect(refresh_token).toBeTruthy();
    const res = await get(apiApp(), refresh_token as string).expect(401);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_TOKEN');
  });

  it('accepts a token without aud only when it was issued to the introspecting client, named as an audience', async () => {
    const { access_token } = await api.tokens('alice', { scope: 'openid' });
    const own = { clientId: 'web-app', clientSecret: 'web-app-secret' };
    const ownApi = createApiApp((app) => {
      app.use('/api', requireBearer({ issuer: api.idp.issuer, audience: 'web-app', introspection: own }));
      app.get('/api/things', (req, res) => res.json(describeCaller(req)));
    });
    expect((await request(ownApi).get('/api/things').set('Authorization', `Bearer ${access_token}`)).status).toBe(200);
    const otherApi = apiApp({ audience: [OPAQUE_API, API_CLIENT.clientId], scopes: [] });
    const refused = await get(otherApi, access_token).expect(401);
    expect(parseChallenge(refused.headers['www-authenticate']).params.error_description).toMatch(/another audience/);
  });

  it('refuses an unknown token, remembers the refusal for 10 s only', async () => {
    let now = Date.now();
    const app = apiApp({ clock: () => now });
    await get(app, 'made-up-token').expect(401);
    const again = await get(app, 'made-up-token').expect(401);
    expect(parseChallenge(again.headers['www-authenticate']).params).toMatchObject({ error: 'invalid_token', error_description: expect.stringMatching(/not active/) });
    expect(api.idp.counters.introspection).toBe(1);
    now += 10_001;
    await get(app, 'made-up-token').expect(401);
    expect(api.idp.counters.introspection).toBe(2);
  });

  it('answers 403 insufficient_scope for an active token without the scope', async () => {
    const { access_token } = await opaqueToken('alice', 'openid write:things');
    const res = await get(apiApp(), access_token).expect(403);
    expect(parseChallenge(res.headers['www-authenticate']).params).toMatchObject({ error: 'insufficient_scope', scope: 'read:things' });
  });

  it('verifies JWTs locally and introspects only opaque tokens when both kinds reach one API', async () => {
    const jwt = (await api.tokens('alice', { resource: API, scope: 'openid read:things' })).access_token;
    const { access_token } = await opaqueToken();
    const app = apiApp({ audience: [API, OPAQUE_API] });
    api.idp.resetCounters();
    await get(app, jwt).expect(200);
    await get(app, access_token).expect(200);
    expect(api.idp.counters.introspection).toBe(1);
  });

  it('answers 502 ERR_OIDC_INTROSPECTION_FAILED when the IdP refuses our credentials', async () => {
    const { access_token } = await opaqueToken();
    const res = await get(apiApp({ introspection: { clientId: 'api', clientSecret: 'wrong' } }), access_token).expect(502);
    expect(res.body.error).toBe('ERR_OIDC_INTROSPECTION_FAILED');
  });

  it('sends client_secret_post credentials in the body when asked (and Basic by default)', async () => {
    const { access_token } = await opaqueToken();
    const seen: Array<{ authorization: string | null; body: string }> = [];
    const recording = (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input).includes('introspect')) seen.push({ authorization: new Headers(init?.headers).get('authorization'), body: String(init?.body) });
      return fetch(input, init);
    }) as typeof fetch;
    const post = { clientId: 'api-post', clientSecret: 'api-post-secret' };
    await get(apiApp({ introspection: { ...post, clientAuthMethod: 'client_secret_post' }, customFetch: recording }), access_token).expect(200);
    await get(apiApp({ introspection: API_CLIENT, customFetch: recording }), access_token).expect(200);
    expect(seen).toHaveLength(2);
    expect(seen[0]?.authorization).toBeNull();
    expect(new URLSearchParams(seen[0]?.body).get('client_secret')).toBe('api-post-secret');
    expect(seen[1]?.authorization).toMatch(/^Basic /);
    expect(new URLSearchParams(seen[1]?.body).get('client_secret')).toBeNull();
  });
});
