import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import * as client from 'openid-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CookieJar, TestIdpError, createTestIdp } from '../../lib/testing/test-idp.js';
import type { ClientMetadata, TestIdp, TestIdpOptions } from '../../lib/testing/test-idp.js';

// The RP is never contacted: nothing listens on this port.
const RP = 'http://127.0.0.1:3999';
const REDIRECT_URI = `${RP}/callback`;
const POST_LOGOUT_URI = `${RP}/signed-out`;
const API = 'http://127.0.0.1:3998/api';
const API_CUSTOM_AUD = 'http://127.0.0.1:3998/reports';

interface BackchannelReceiver {
  url: string;
  tokens: string[];
  close(): Promise<void>;
}

async function startBackchannelReceiver(): Promise<BackchannelReceiver> {
  const tokens: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => { body += chunk; });
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token');
      if (req.method === 'POST' && token) {
        tokens.push(token);
        res.statusCode = 200;
      } else {
        res.statusCode = 400;
      }
      res.setHeader('cache-control', 'no-store');
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/backchannel-logout`,
    tokens,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}

function webClient(extra: Partial<ClientMetadata> = {}): ClientMetadata {
  return {
    client_id: 'web-app',
    client_secret: 'web-app-secret',
    client_name: 'Web App',
    redirect_uris: [REDIRECT_URI],
    post_logout_redirect_uris: [POST_LOGOUT_URI],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...extra,
  };
}

async function discover(idp: TestIdp, clientId = 'web-app', secret = 'web-app-secret'): Promise<client.Configuration> {
  return client.discovery(new URL(idp.issuer), clientId, secret, undefined, {
    execute: [client.allowInsecureRequests],
  });
}

interface StartedLogin {
  url: URL;
  verifier: string;
  state: string;
  nonce: string;
}

async function startLogin(config: client.Configuration, params: Record<string, string> = {}): Promise<StartedLogin> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile email',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...params,
  });
  return { url, verifier, state, nonce };
}

async function loginAndExchange(
  idp: TestIdp,
  config: client.Configuration,
  username = 'alice',
  params: Record<string, string> = {},
  jar?: CookieJar,
) {
  const started = await startLogin(config, params);
  const returned = await idp.login(started.url, { username, password: username }, jar);
  expect(returned.method).toBe('GET');
  return client.authorizationCodeGrant(config, new URL(returned.url), {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
    idTokenExpected: true,
  });
}

describe('createTestIdp', () => {
  let receiver: BackchannelReceiver;
  let idp: TestIdp;
  let config: client.Configuration;

  beforeAll(async () => {
    receiver = await startBackchannelReceiver();
    idp = await createTestIdp({
      clients: [
        webClient({ backchannel_logout_uri: receiver.url }),
        {
          client_id: 'spa',
          token_endpoint_auth_method: 'none',
          redirect_uris: [REDIRECT_URI],
          post_logout_redirect_uris: [POST_LOGOUT_URI],
        },
      ],
      resourceServers: {
        [API]: { scope: 'api:read api:write' },
        [API_CUSTOM_AUD]: { scope: 'reports:read', audience: 'urn:test:reports' },
      },
      title: 'Acme Test IdP',
    });
    config = await discover(idp);
  });

  afterAll(async () => {
    await idp?.close();
    await receiver?.close();
  });

  beforeEach(() => {
    idp.resetCounters();
    receiver.tokens.length = 0;
  });

  it('listens on 127.0.0.1 and publishes a discovery document', async () => {
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metadata = config.serverMetadata();
    expect(metadata.issuer).toBe(idp.issuer);
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.end_session_endpoint).toBe(`${idp.issuer}/session/end`);
    expect(metadata.revocation_endpoint).toBeDefined();
    expect(metadata.introspection_endpoint).toBeDefined();
    expect(metadata.backchannel_logout_supported).toBe(true);
    expect(metadata.backchannel_logout_session_supported).toBe(true);
    expect(metadata.scopes_supported).toEqual(expect.arrayContaining(['openid', 'profile', 'email', 'roles', 'offline_access']));
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));

    await discover(idp);
    expect(idp.counters.discovery).toBe(1);
  });

  it('runs the authorization code flow with PKCE, returning roles in the ID token and userinfo', async () => {
    const started = await startLogin(config);
    const returned = await idp.login(started.url, { username: 'alice', password: 'alice' });

    expect(returned.method).toBe('GET');
    const callback = new URL(returned.url);
    expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe(started.state);
    expect(callback.searchParams.get('iss')).toBe(idp.issuer);
    expect(callback.searchParams.get('code')).toBeTruthy();

    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
      idTokenExpected: true,
    });
    expect(tokens.token_type.toLowerCase()).toBe('bearer');
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.refresh_token).toBeTruthy();
    const claims = tokens.claims();
    expect(claims).toMatchObject({
      iss: idp.issuer,
      aud: 'web-app',
      sub: 'alice',
      name: 'Alice Admin',
      given_name: 'Alice',
      email: 'alice@example.test',
      email_verified: true,
      roles: ['admin'],
      nonce: started.nonce,
    });
    // sid is included because the client registered a backchannel_logout_uri
    expect(typeof claims?.sid).toBe('string');

    const userinfo = await client.fetchUserInfo(config, tokens.access_token, 'alice');
    expect(userinfo).toMatchObject({ sub: 'alice', name: 'Alice Admin', email: 'alice@example.test', roles: ['admin'] });

    expect(idp.counters).toMatchObject({ authorization: 1, token: 1, userinfo: 1, end_session: 0 });
  });

  it('logs in bob with his own claims', async () => {
    const tokens = await loginAndExchange(idp, config, 'bob');
    expect(tokens.claims()).toMatchObject({ sub: 'bob', roles: ['user'], email: 'bob@example.test' });
  });

  it('rotates refresh tokens and rejects a used one with invalid_grant', async () => {
    const tokens = await loginAndExchange(idp, config);
    const first = tokens.refresh_token;
    expect(first).toBeTruthy();

    const refreshed = await client.refreshTokenGrant(config, first!);
    expect(refreshed.access_token).toBeTruthy();
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(first);
    expect(refreshed.claims()).toMatchObject({ sub: 'alice', roles: ['admin'] });

    await expect(client.refreshTokenGrant(config, first!)).rejects.toMatchObject({ error: 'invalid_grant' });
    expect(idp.counters.token).toBe(3);
  });

  it('supports revocation and introspection', async () => {
    const tokens = await loginAndExchange(idp, config);

    const before = await client.tokenIntrospection(config, tokens.access_token);
    expect(before).toMatchObject({ active: true, sub: 'alice', client_id: 'web-app' });

    await client.tokenRevocation(config, tokens.access_token);
    const after = await client.tokenIntrospection(config, tokens.access_token);
    expect(after.active).toBe(false);
    await expect(client.fetchUserInfo(config, tokens.access_token, 'alice')).rejects.toThrow();

    await client.tokenRevocation(config, tokens.refresh_token!);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    expect(idp.counters.revocation).toBe(2);
    expect(idp.counters.introspection).toBe(2);
  });

  it('requires PKCE', async () => {
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 'xyz',
    });
    const returned = await idp.login(url, { username: 'alice', password: 'alice' });
    const callback = new URL(returned.url);
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toMatch(/PKCE/);
  });

  it('re-renders the login page with an escaped error on a wrong password', async () => {
    const { url } = await startLogin(config);
    await expect(idp.login(url, { username: 'alice', password: 'nope' })).rejects.toThrow(/Invalid username or password/);
    await expect(idp.login(url, { username: 'alice', password: 'nope' })).rejects.toBeInstanceOf(TestIdpError);

    // the same, step by step like a browser
    const jar = new CookieJar();
    const started = await startLogin(config);
    const auth = await fetch(started.url, { redirect: 'manual' });
    jar.capture(started.url, auth);
    expect(auth.status).toBe(303);
    const interactionUrl = new URL(auth.headers.get('location')!, started.url);
    const pageRes = await fetch(interactionUrl, { headers: { cookie: jar.header(interactionUrl) } });
    const page = await pageRes.text();
    expect(pageRes.status).toBe(200);
    expect(page).toContain('Acme Test IdP');
    expect(page).toContain('alice / alice (admin), bob / bob (user)');
    expect(page).toContain('name="username"');
    expect(page).toContain('name="password"');
    expect(page).not.toMatch(/<(script|link|img)\b/i);

    const loginUrl = new URL(`${interactionUrl.pathname}/login`, interactionUrl);
    const failed = await fetch(loginUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(loginUrl), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: '<script>alert(1)</script>', password: 'x' }).toString(),
    });
    const failedPage = await failed.text();
    expect(failed.status).toBe(401);
    expect(failedPage).toContain('Invalid username or password.');
    expect(failedPage).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(failedPage).not.toContain('<script>alert(1)');

    // correct credentials then finish the interaction
    const ok = await fetch(loginUrl, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(loginUrl), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'bob', password: 'bob' }).toString(),
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toContain('/auth/');
  });

  it('reuses the IdP session kept in the cookie jar (single sign-on)', async () => {
    const jar = new CookieJar();
    await loginAndExchange(idp, config, 'alice', {}, jar);
    // the second login does not need (valid) credentials: the IdP session cookie is in the jar
    const started = await startLogin(config);
    const returned = await idp.login(started.url, { username: 'alice', password: 'wrong' }, jar);
    expect(new URL(returned.url).searchParams.get('code')).toBeTruthy();
  });

  it('returns a POST for response_mode=form_post', async () => {
    const started = await startLogin(config, { response_mode: 'form_post' });
    const returned = await idp.login(started.url, { username: 'alice', password: 'alice' });
    expect(returned.method).toBe('POST');
    if (returned.method !== 'POST') throw new Error('unreachable');
    expect(returned.url).toBe(REDIRECT_URI);
    expect(returned.body.get('state')).toBe(started.state);
    expect(returned.body.get('iss')).toBe(idp.issuer);
    expect(returned.body.get('code')).toBeTruthy();

    const request = new Request(returned.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: returned.body.toString(),
    });
    const tokens = await client.authorizationCodeGrant(config, request, {
      pkceCodeVerifier: started.verifier,
      expectedState: started.state,
      expectedNonce: started.nonce,
      idTokenExpected: true,
    });
    expect(tokens.claims()?.sub).toBe('alice');
  });

  it('completes RP-initiated logout and sends a back-channel logout token', async () => {
    const jar = new CookieJar();
    const tokens = await loginAndExchange(idp, config, 'alice', {}, jar);
    const idToken = tokens.id_token!;
    const sid = tokens.claims()?.sid;
    expect(sid).toBeTruthy();

    const endSessionUrl = client.buildEndSessionUrl(config, {
      id_token_hint: idToken,
      post_logout_redirect_uri: POST_LOGOUT_URI,
      state: 'bye',
    });
    const returned = await idp.logout(endSessionUrl, jar);
    expect(returned).toEqual({ method: 'GET', url: `${POST_LOGOUT_URI}?state=bye` });

    expect(receiver.tokens).toHaveLength(1);
    const logoutToken = receiver.tokens[0]!;
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(logoutToken, jwks, { issuer: idp.issuer, audience: 'web-app' });
    expect(protectedHeader.typ).toBe('logout+jwt');
    expect(payload.sub).toBe('alice');
    expect(payload.sid).toBe(sid);
    expect(payload.events).toEqual({ 'http://schemas.openid.net/event/backchannel-logout': {} });
    expect(payload.nonce).toBeUndefined();

    expect(idp.counters).toMatchObject({ end_session: 1, backchannel: 1 });

    // the IdP session is gone: the next login asks for credentials again
    const started = await startLogin(config);
    await expect(idp.login(started.url, { username: 'alice', password: 'wrong' }, jar)).rejects.toThrow(/Invalid username or password/);
    // tokens without offline_access expire with the IdP session
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('shows the IdP sign-out page when there is no post_logout_redirect_uri', async () => {
    const jar = new CookieJar();
    await loginAndExchange(idp, config, 'bob', {}, jar);
    const returned = await idp.logout(client.buildEndSessionUrl(config, { client_id: 'web-app' }), jar);
    expect(returned.method).toBe('GET');
    expect(returned.url).toBe(`${idp.issuer}/session/end/success`);
    const page = await (await fetch(returned.url)).text();
    expect(page).toContain('Signed out');
    expect(receiver.tokens).toHaveLength(1);
    expect(decodeJwt(receiver.tokens[0]!).sub).toBe('bob');
  });

  it('logs out without an IdP session (nothing to confirm, no back-channel call)', async () => {
    const tokens = await loginAndExchange(idp, config, 'alice');
    const url = client.buildEndSessionUrl(config, { id_token_hint: tokens.id_token!, post_logout_redirect_uri: POST_LOGOUT_URI });
    const returned = await idp.logout(url, new CookieJar());
    expect(returned).toEqual({ method: 'GET', url: POST_LOGOUT_URI });
    expect(receiver.tokens).toHaveLength(0);
    expect(idp.counters.backchannel).toBe(0);
  });

  it('issues JWT access tokens for a requested resource server', async () => {
    const tokens = await loginAndExchange(idp, config, 'alice', { resource: API, scope: 'openid profile api:read' });
    expect(tokens.access_token.split('.')).toHaveLength(3);
    const jwks = createRemoteJWKSet(new URL(config.serverMetadata().jwks_uri!));
    const { payload, protectedHeader } = await jwtVerify(tokens.access_token, jwks, { issuer: idp.issuer, audience: API });
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ sub: 'alice', client_id: 'web-app', scope: 'api:read' });
    // claims still reach the RP through the ID token
    expect(tokens.claims()).toMatchObject({ sub: 'alice', roles: ['admin'] });

    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(decodeJwt(refreshed.access_token).aud).toBe(API);

    const custom = await loginAndExchange(idp, config, 'bob', { resource: API_CUSTOM_AUD, scope: 'openid reports:read' });
    expect(decodeJwt(custom.access_token)).toMatchObject({ aud: 'urn:test:reports', scope: 'reports:read', sub: 'bob' });
  });

  it('rejects unknown resource indicators with invalid_target', async () => {
    const started = await startLogin(config, { resource: 'http://127.0.0.1:3998/unknown' });
    const returned = await idp.login(started.url, { username: 'alice', password: 'alice' });
    expect(new URL(returned.url).searchParams.get('error')).toBe('invalid_target');
  });

  it('supports public clients (token_endpoint_auth_method none)', async () => {
    const spa = await client.discovery(new URL(idp.issuer), 'spa', undefined, client.None(), {
      execute: [client.allowInsecureRequests],
    });
    const tokens = await loginAndExchange(idp, spa, 'bob');
    expect(tokens.claims()).toMatchObject({ sub: 'bob', aud: 'spa' });
    expect(tokens.refresh_token).toBeTruthy();
  });

  it('renders an error page (and the driver throws) for an unregistered redirect_uri', async () => {
    const started = await startLogin(config, { redirect_uri: `${RP}/elsewhere` });
    const error = await idp.login(started.url, { username: 'alice', password: 'alice' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TestIdpError);
    expect((error as TestIdpError).status).toBe(400);
    expect((error as TestIdpError).message).toMatch(/redirect_uri/);
  });

  it('refuses to drive URLs that are not on the IdP', async () => {
    await expect(idp.login(`${RP}/login`, { username: 'alice', password: 'alice' })).rejects.toThrow(/not a URL of the test IdP/);
  });
});

describe('createTestIdp options', () => {
  const started: TestIdp[] = [];
  async function start(options: Partial<TestIdpOptions> = {}): Promise<TestIdp> {
    const idp = await createTestIdp({ clients: [webClient()], ...options });
    started.push(idp);
    return idp;
  }

  afterAll(async () => {
    await Promise.all(started.map((idp) => idp.close()));
  });

  it('mounts under an issuer path', async () => {
    const idp = await start({ path: '/idp/' });
    expect(idp.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/idp$/);
    const config = await discover(idp);
    expect(config.serverMetadata().authorization_endpoint).toBe(`${idp.issuer}/auth`);
    expect(config.serverMetadata().token_endpoint).toBe(`${idp.issuer}/token`);

    const tokens = await loginAndExchange(idp, config);
    expect(tokens.claims()).toMatchObject({ iss: idp.issuer, sub: 'alice' });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ roles: ['admin'] });

    const origin = new URL(idp.issuer).origin;
    expect((await fetch(`${origin}/.well-known/openid-configuration`)).status).toBe(404);
    const rfc8414 = await fetch(`${origin}/.well-known/oauth-authorization-server/idp`);
    expect(rfc8414.status).toBe(200);
    expect(((await rfc8414.json()) as { issuer: string }).issuer).toBe(idp.issuer);
    expect(idp.counters.discovery).toBe(2);
  });

  it('accepts custom users and TTLs', async () => {
    const idp = await start({
      users: [{ username: 'carol', password: 's3cret', sub: 'user-42', claims: { name: 'Carol', roles: ['auditor'] } }],
      accessTokenTtl: 120,
      idTokenTtl: 300,
    });
    const config = await discover(idp);
    const s = await startLogin(config);
    const returned = await idp.login(s.url, { username: 'carol', password: 's3cret' });
    const tokens = await client.authorizationCodeGrant(config, new URL(returned.url), {
      pkceCodeVerifier: s.verifier, expectedState: s.state, expectedNonce: s.nonce, idTokenExpected: true,
    });
    expect(tokens.expires_in).toBe(120);
    const claims = tokens.claims()!;
    expect(claims).toMatchObject({ sub: 'user-42', name: 'Carol', roles: ['auditor'] });
    expect(claims.exp - claims.iat).toBe(300);
  });

  it('shows a consent page when autoConsent is false (the driver accepts it)', async () => {
    const idp = await start({ autoConsent: false });
    const config = await discover(idp);
    const tokens = await loginAndExchange(idp, config);
    expect(tokens.claims()).toMatchObject({ sub: 'alice', roles: ['admin'] });
    expect(await client.fetchUserInfo(config, tokens.access_token, 'alice')).toMatchObject({ email: 'alice@example.test' });
  });

  it('keeps refresh tokens when rotation is off', async () => {
    const idp = await start({ rotateRefreshTokens: false });
    const config = await discover(idp);
    const tokens = await loginAndExchange(idp, config);
    const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
    expect(refreshed.refresh_token ?? tokens.refresh_token).toBe(tokens.refresh_token);
    await expect(client.refreshTokenGrant(config, tokens.refresh_token!)).resolves.toMatchObject({ token_type: expect.any(String) });
  });

  it('only issues refresh tokens for offline_access when issueRefreshTokens is false', async () => {
    const idp = await start({ issueRefreshTokens: false });
    const config = await discover(idp);
    const plain = await loginAndExchange(idp, config);
    expect(plain.refresh_token).toBeUndefined();
    const offline = await loginAndExchange(idp, config, 'alice', {
      scope: 'openid profile offline_access',
      prompt: 'consent',
    });
    expect(offline.refresh_token).toBeTruthy();
  });

  it('refuses to bind to a non-loopback host', async () => {
    await expect(createTestIdp({ clients: [webClient()], host: '0.0.0.0' })).rejects.toThrow(/loopback/);
  });
});

describe('CookieJar', () => {
  it('stores cookies per origin, honours Path and deletes expired cookies', () => {
    const jar = new CookieJar();
    const origin = 'http://127.0.0.1:1234';
    jar.set(`${origin}/auth`, [
      'a=1; path=/; httponly',
      'b=2; path=/interaction/x; samesite=lax',
      'c=3; Max-Age=60',
    ]);
    expect(jar.header(`${origin}/`)).toBe('a=1; c=3');
    expect(jar.header(`${origin}/interaction/x/login`)).toBe('b=2; a=1; c=3');
    expect(jar.header(`${origin}/interaction/xy`)).toBe('a=1; c=3');
    expect(jar.header('http://127.0.0.1:9999/')).toBe('');
    expect(jar.get(`${origin}/interaction/x`, 'b')).toBe('2');

    jar.set(`${origin}/`, ['a=; path=/; expires=Thu, 01 Jan 1970 00:00:01 GMT', 'c=gone; Max-Age=0']);
    expect(jar.header(`${origin}/`)).toBe('');
    expect(jar.header(`${origin}/interaction/x`)).toBe('b=2');
    jar.clear();
    expect(jar.header(`${origin}/interaction/x`)).toBe('');
  });
});
