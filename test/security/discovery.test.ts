/**
 * Security checklist §5.7 and OUT-03/04: discovery documents and IdP transports an attacker (or a broken
 * IdP) can serve. A refused discovery never sends a browser to the IdP and never creates a session.
 */
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';
import { expectNotLoggedIn, login } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

async function expectDiscoveryRefused(rp: RpApp, code = 'ERR_OIDC_DISCOVERY_FAILED', status = 502): Promise<void> {
  const res = await request(rp.app).get('/login');
  expect(res.status).toBe(status);
  expect(res.body.error).toBe(code);
  expect(res.headers.location).toBeUndefined();
  expect(op.counters.authorization).toBe(0);
  expect(Object.keys(await rp.sessions())).toHaveLength(0);
}

/**
 * An https issuer on a public-looking host (`op.example`), reached through `customFetch`: every request
 * for op.example (http or https) goes to the hostile OP, and the URLs asked for are recorded.
 */
function publicIssuer(metadata: Record<string, unknown>) {
  const asked: string[] = [];
  const customFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    asked.push(url.href);
    return fetch(`${op.issuer}${url.pathname}${url.search}`, init);
  }) as typeof fetch;
  op.behaviour.discoveryBody = JSON.stringify({
    issuer: 'https://op.example',
    authorization_endpoint: 'https://op.example/authorize',
    token_endpoint: 'https://op.example/token',
    userinfo_endpoint: 'https://op.example/userinfo',
    jwks_uri: 'https://op.example/jwks',
    response_types_supported: ['code'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    ...metadata,
  });
  op.behaviour.issParam = 'missing';
  op.behaviour.idToken = { claims: { iss: 'https://op.example' } };
  return { asked, rp: createRpApp({ issuer: 'https://op.example', customFetch }) };
}

describe('discovery', () => {
  it.each([
    ['another issuer', () => 'https://evil.example'],
    ['the issuer with a path appended', () => `${op.issuer}/tenant-b`],
  ])('DISC-02 metadata naming %s: refused, the authorization endpoint is never used', async (_name, issuer) => {
    op.behaviour.discoveryOverrides = { issuer: issuer() };
    await expectDiscoveryRefused(createRpApp({ issuer: op.issuer }));
  });

  it('DISC-03 the JWKS is fetched from the discovered (randomised) jwks_uri', async () => {
    op.behaviour.discoveryOverrides = { jwks_uri: `${op.issuer}/jwks?run=r4nd0m` };
    const rp = createRpApp({ issuer: op.issuer });
    const { res } = await login(rp, op);
    expect(res.status).toBe(302);
    expect(op.requests.filter((r) => r.endpoint === 'jwks').map((r) => new URL(r.url).search)).toEqual(['?run=r4nd0m']);
  });

  it.each([
    ['a 302', () => (op.behaviour.discoveryStatus = 302)],
    ['an HTML page', () => (op.behaviour.discoveryBody = '<html>login</html>')],
    ['a JSON array', () => (op.behaviour.discoveryBody = '[1]')],
    ['no token_endpoint', () => (op.behaviour.discoveryOverrides = { token_endpoint: undefined })],
    ['no authorization_endpoint', () => (op.behaviour.discoveryOverrides = { authorization_endpoint: undefined })],
    ['no jwks_uri', () => (op.behaviour.discoveryOverrides = { jwks_uri: undefined })],
  ])('DISC-04 / DISC-06 a discovery answer with %s: refused, and /login works once the IdP is fixed', async (_name, setup) => {
    setup();
    const rp = createRpApp({ issuer: op.issuer });
    await expectDiscoveryRefused(rp);
    op.reset();
    await request(rp.app).get('/login').expect(302);
  });

  it('DISC-06 no userinfo_endpoint: the login works with the ID token claims only', async () => {
    op.behaviour.discoveryOverrides = { userinfo_endpoint: undefined };
    const rp = createRpApp({ issuer: op.issuer });
    const { res, agent } = await login(rp, op);
    expect(res.status).toBe(302);
    expect(op.counters.userinfo).toBe(0);
    expect((await agent.get('/api/me').expect(200)).body.user).toMatchObject({ sub: 'user-1', email: 'user-1@example.test' });
  });

  it('DISC-08 a slowloris discovery document: 504 within httpTimeout', async () => {
    op.behaviour.discoveryTrickleMs = 50;
    const started = Date.now();
    await expectDiscoveryRefused(createRpApp({ issuer: op.issuer, httpTimeout: 400 }), 'ERR_OIDC_IDP_TIMEOUT', 504);
    expect(Date.now() - started).toBeLessThan(2500);
  });
});

describe('DISC-05 http:// endpoints in the metadata of an https issuer', () => {
  it('DISC-05 control: the all-https public issuer works through customFetch', async () => {
    const { rp, asked } = publicIssuer({});
    const agent = request.agent(rp.app);
    const start = await agent.get('/login').expect(302);
    expect(start.headers.location?.startsWith('https://op.example/authorize?')).toBe(true);
    const back = new URL(await op.authorize(`${op.issuer}/authorize${new URL(start.headers.location as string).search}`));
    await agent.get(back.pathname + back.search).expect(302);
    expect(asked.every((u) => u.startsWith('https://op.example/'))).toBe(true);
  });

  it('DISC-05 an http authorization_endpoint: the browser is never sent there', async () => {
    const { rp } = publicIssuer({ authorization_endpoint: 'http://op.example/authorize' });
    const res = await request(rp.app).get('/login');
    expect(res.status).toBeGreaterThanOrEqual(500);
    expect(res.headers.location).toBeUndefined();
  });

  it.each([
    ['token_endpoint', 'token'],
    ['userinfo_endpoint', 'userinfo'],
  ] as const)('DISC-05 an http %s: refused at discovery (502), no request goes out over http, nothing stored', async (field, endpoint) => {
    const { rp, asked } = publicIssuer({ [field]: `http://op.example/${endpoint}` });
    const agent = request.agent(rp.app);
    const res = await agent.get('/login');
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_DISCOVERY_FAILED');
    expect(asked.filter((u) => u.startsWith('http:'))).toEqual([]);
    expect(op.counters[endpoint]).toBe(0);
    await expectNotLoggedIn(rp, agent);
  });
});

describe('what a failed discovery tells the developer', () => {
  it('an HTML 404 (issuer URL with a typo): names the URL fetched, the status and the content type', async () => {
    op.behaviour.discoveryStatus = 404;
    const rp = createRpApp({ issuer: `${op.issuer}/realms/typo` });
    await expectDiscoveryRefused(rp);
    expect(rp.errors[0]?.message).toMatch(
      new RegExp(`^Discovery failed: GET ${op.issuer}/realms/typo/\\.well-known/openid-configuration: it answered HTTP 404 \\(`),
    );
  });

  it('a document that names another issuer: says which one, and that "issuer" must match it exactly', async () => {
    op.behaviour.discoveryOverrides = { issuer: `${op.issuer}/tenant-b` };
    const rp = createRpApp({ issuer: op.issuer });
    await expectDiscoveryRefused(rp);
    expect(rp.errors[0]?.message).toContain(`it names the issuer "${op.issuer}/tenant-b", not "${op.issuer}/"`);
  });

  it('a 200 that is not JSON (a login page): names the content type that came back', async () => {
    op.behaviour.discoveryBody = '<html>Sign in</html>';
    const rp = createRpApp({ issuer: op.issuer });
    await expectDiscoveryRefused(rp);
    expect(rp.errors[0]?.message).toMatch(/openid-configuration: it answered HTTP 200 \(application\/json\), which is not usable metadata \(OAUTH_PARSE_ERROR\)/);
  });
});

describe('transport failures', () => {
  it('OUT-04 connection refused: 502 ERR_OIDC_DISCOVERY_FAILED with a clean message', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const rp = createRpApp({ issuer: `http://127.0.0.1:${port}` });
    const res = await request(rp.app).get('/login');
    expect(res.status).toBe(502);
    expect(res.body.error).toBe('ERR_OIDC_DISCOVERY_FAILED');
    // For the developer (the 502 message is not exposed): the URL fetched and the network error, no stack.
    expect(rp.errors[0]?.message).toBe(
      `Discovery failed: GET http://127.0.0.1:${port}/.well-known/openid-configuration: it could not be reached (ECONNREFUSED). ` +
        '"issuer" must be the IdP\'s issuer URL, reachable from this server',
    );
    expect(rp.errors[0]?.message).not.toMatch(/at .*\.js/);
  });

  it('OUT-03 an https IdP with a self-signed certificate: refused (502), no fallback to http', async () => {
    const tls = createServer({ key: TEST_KEY, cert: TEST_CERT }, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const port = (tls.address() as AddressInfo).port;
      const rp = createRpApp({ issuer: `https://127.0.0.1:${port}` });
      const res = await request(rp.app).get('/login');
      expect(res.status).toBe(502);
      expect(res.body.error).toBe('ERR_OIDC_DISCOVERY_FAILED');
      expect(res.headers.location).toBeUndefined();
    } finally {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    }
  });
});

/** A self-signed P-256 certificate for 127.0.0.1 (test only; nothing trusts it). */
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvmuypKv+PByUlLKT
BGbz1xcGp5q9X4k7mOEc1EvQAXehRANCAATqXA57c44curaFHgazwD3bXSnrJprV
0IRaNzCIYkzVpdp1IU5GZUWgl8Ljt7o1mtGjEDRecn6spAwX1MLHxElF
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBkDCCATagAwIBAgIUWDvtxRsEC1nnN+hTm3LajyYU37UwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNjA5MDc0MloYDzIxMjYxMTAy
MDkwNzQyWjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAATqXA57c44curaFHgazwD3bXSnrJprV0IRaNzCIYkzVpdp1IU5GZUWg
l8Ljt7o1mtGjEDRecn6spAwX1MLHxElFo2QwYjAdBgNVHQ4EFgQURasqdZF4z9i0
JOdvhTE7tn89D4swHwYDVR0jBBgwFoAURasqdZF4z9i0JOdvhTE7tn89D4swDwYD
VR0TAQH/BAUwAwEB/zAPBgNVHREECDAGhwR/AAABMAoGCCqGSM49BAMCA0gAMEUC
IQDBwp8+OsqAjjYMDgCSb4YrtjRb+uxUsglP9bSxxx0d4QIgNZkP6ajhj2OzO3i3
WZRSO9bA4qL/3+byyFUGoBGsSs4=
-----END CERTIFICATE-----
`;
