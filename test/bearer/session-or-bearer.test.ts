import * as client from 'openid-client';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar } from '../../lib/testing/index.js';
import { parseChallenge } from '../helpers/api-app.js';
import { API, API_SCOPES } from '../helpers/api-idp.js';
import { startLiveRp } from '../helpers/live-rp.js';
import type { LiveRp } from '../helpers/live-rp.js';
import { ADAPTERS, localPath } from '../helpers/rp-app.js';
import type { Adapter, RouteView, RpOptions, TestRoute } from '../helpers/rp-app.js';

/** A resource server whose tokens carry aud = the login client's id (what `bearer: true` expects). */
const SELF_API = 'https://rp.example.test';

let rp: LiveRp | undefined;
afterEach(async () => {
  await rp?.close();
  rp = undefined;
});

/** What the test routes answer: who the token (or the session) says the caller is. */
function describeCaller({ auth, user }: RouteView): Record<string, unknown> {
  return auth
    ? { via: 'bearer', sub: auth.sub, clientId: auth.clientId, scopes: auth.scopes, scheme: auth.scheme, aud: auth.claims.aud }
    : { via: 'session', sub: user?.sub };
}

/** The API routes of the app: session OR bearer. The apps' error handlers send the challenge header. */
const ROUTES: TestRoute[] = [
  { method: 'get', path: '/api/data', guard: { bearer: { audience: API } }, handler: describeCaller },
  {
    method: 'post',
    path: '/api/data',
    guard: (kit) => [kit.requireAuth({ bearer: { audience: API } }), kit.requireScopes('write:things')],
    handler: describeCaller,
  },
  { method: 'get', path: '/api/self', guard: { bearer: true }, handler: describeCaller },
  {
    method: 'get',
    path: '/api/proxy',
    guard: {},
    handler: async (view) => {
      // the session side calls the API with the logged-in user's access token
      const token = await view.oidc!.getAccessToken();
      const answer = await fetch(`${rp!.baseUrl}/api/data`, { headers: { Authorization: `Bearer ${token}` } });
      view.status(answer.status);
      return answer.json();
    },
  },
];

async function start(adapter: Adapter, options: RpOptions = {}): Promise<LiveRp> {
  rp = await startLiveRp(options, {
    resourceServers: { [API]: { scope: API_SCOPES }, [SELF_API]: { scope: 'read:things', audience: 'rp' } },
  }, adapter, ROUTES);
  return rp;
}

async function sessionLogin(live: LiveRp, user = 'alice'): Promise<request.Agent> {
  const agent = request.agent(live.baseUrl);
  const start = await agent.get('/login').expect(302);
  const back = await live.idp.login(start.headers.location as string, { username: user, password: user }, new CookieJar());
  await agent.get(localPath(back.url)).expect(302);
  return agent;
}

/** Tokens for the RP's own client, obtained with openid-client directly (as an SPA or a mobile app would). */
async function clientTokens(live: LiveRp, user: string, params: Record<string, string>): Promise<client.TokenEndpointResponse> {
  const config = await client.discovery(new URL(live.idp.issuer), 'rp', 'rp-secret', undefined, { execute: [client.allowInsecureRequests] });
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: `${live.baseUrl}/callback`,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  const back = await live.idp.login(url, { username: user, password: user });
  return client.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce });
}

describe.each(ADAPTERS)('requireAuth({ bearer }): a session or an access token (%s)', (adapter) => {
  it('lets a logged-in session through (no token needed)', async () => {
    const live = await start(adapter);
    const agent = await sessionLogin(live);
    const res = await agent.get('/api/data').expect(200);
    expect(res.body).toEqual({ via: 'session', sub: 'alice' });
  });

  it('lets a valid bearer token through without any session, and sets req.auth', async () => {
    const live = await start(adapter);
    const { access_token } = await clientTokens(live, 'bob', { resource: API, scope: 'openid read:things' });
    const res = await request(live.baseUrl).get('/api/data').set('Authorization', `Bearer ${access_token}`).expect(200);
    expect(res.body).toMatchObject({ via: 'bearer', sub: 'bob', clientId: 'rp', scopes: ['read:things'] });
    expect(res.headers['cache-control']).toBe('no-store');
    expect(Object.keys(await live.sessions())).toHaveLength(0);
  });

  it('refuses a bad bearer token even when a valid session cookie comes with it (no fallback to the session)', async () => {
    const live = await start(adapter);
    const agent = await sessionLogin(live);
    const res = await agent.get('/api/data').set('Authorization', 'Bearer not-a-valid-token').expect(401);
    expect(parseChallenge(res.headers['www-authenticate']).params.error).toBe('invalid_token');
    const malformed = await agent.get('/api/data').set('Authorization', 'Bearer').expect(400);
    expect(malformed.body.error).toBe('ERR_OIDC_INVALID_REQUEST');
    await agent.get('/api/data').expect(200);
  });

  it('keeps the session behaviour when neither is there: 401 for APIs, a login redirect for browsers', async () => {
    const live = await start(adapter);
    await request(live.baseUrl).get('/api/data').set('Accept', 'application/json').expect(401);
    const page = await request(live.baseUrl).get('/api/data').set('Accept', 'text/html').expect(302);
    expect(page.headers.location?.startsWith(live.idp.issuer)).toBe(true);
    // a Basic header is not a bearer token: the session path answers
    await request(live.baseUrl).get('/api/data').set('Authorization', 'Basic YTpi').expect(401);
  });

  it('runs the guards after it on the token: 403 insufficient_scope with the scope attribute', async () => {
    const live = await start(adapter);
    const { access_token } = await clientTokens(live, 'bob', { resource: API, scope: 'openid read:things' });
    const res = await request(live.baseUrl).post('/api/data').set('Authorization', `Bearer ${access_token}`).expect(403);
    expect(parseChallenge(res.headers['www-authenticate']).params).toMatchObject({ error: 'insufficient_scope', scope: 'write:things' });
    const both = await clientTokens(live, 'bob', { resource: API, scope: 'openid read:things write:things' });
    await request(live.baseUrl).post('/api/data').set('Authorization', `Bearer ${both.access_token}`).expect(200);
  });

  it('bearer: true takes the login side\'s issuer and audience = clientId, and refuses the client\'s own ID token', async () => {
    const live = await start(adapter);
    const tokens = await clientTokens(live, 'alice', { resource: SELF_API, scope: 'openid read:things' });
    const ok = await request(live.baseUrl).get('/api/self').set('Authorization', `Bearer ${tokens.access_token}`).expect(200);
    expect(ok.body).toMatchObject({ via: 'bearer', sub: 'alice', aud: 'rp' });
    // same issuer, same aud (the client id), validly signed: still an ID token, not an access token
    const id = await request(live.baseUrl).get('/api/self').set('Authorization', `Bearer ${tokens.id_token}`).expect(401);
    expect(parseChallenge(id.headers['www-authenticate']).params.error_description).toBe('An ID token is not an access token');
    // a token for another API is refused here
    const other = await clientTokens(live, 'alice', { resource: API, scope: 'openid read:things' });
    await request(live.baseUrl).get('/api/self').set('Authorization', `Bearer ${other.access_token}`).expect(401);
  });

  it('shares discovery with the login side: one discovery document for logins and tokens', async () => {
    const live = await start(adapter);
    const { access_token } = await clientTokens(live, 'bob', { resource: API, scope: 'openid read:things' });
    live.idp.resetCounters();
    await sessionLogin(live);
    await request(live.baseUrl).get('/api/data').set('Authorization', `Bearer ${access_token}`).expect(200);
    await request(live.baseUrl).get('/api/data').set('Authorization', `Bearer ${access_token}`).expect(200);
    expect(live.idp.counters.discovery).toBe(1);
    expect(live.idp.counters.jwks).toBe(2); // the login side's key set and the bearer side's (its own cool-down)
  });

  it('the session side gets a token for the API audience (authorizationParams.resource) and calls the API with it', async () => {
    // userinfo only takes tokens meant for it; this token is the API's, so the claims come from the ID token
    const live = await start(adapter, { scope: 'openid profile email read:things', authorizationParams: { resource: API }, fetchUserinfo: false });
    const agent = await sessionLogin(live, 'alice');
    const res = await agent.get('/api/proxy').expect(200);
    expect(res.body).toMatchObject({ via: 'bearer', sub: 'alice', clientId: 'rp', aud: API, scopes: ['read:things'] });
  });

  it('validates the bearer options when requireAuth() is called, naming them', async () => {
    const live = await start(adapter);
    expect(() => live.auth.requireAuth({ bearer: { audience: '' } })).toThrow(/requireAuth\(\{ bearer \}\): "audience"/);
    expect(() => live.auth.requireAuth({ bearer: { issuer: 'x' } as never })).toThrow(/unknown option "issuer"/);
  });
});
