import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { boundAccessToken } from '../../lib/core/tokens/bound-token.js';
import { DpopKeys } from '../../lib/core/tokens/dpop-keys.js';
import { requireBearer } from '../../lib/express/index.js';
import { createApiApp, describeCaller } from '../helpers/api-app.js';
import { startLiveRp, startRpServer } from '../helpers/live-rp.js';
import type { LiveRp, RpServer } from '../helpers/live-rp.js';
import { ADAPTERS, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpOptions, TestRoute } from '../helpers/rp-app.js';

// DPoP (RFC 9449) for the session's tokens against oidc-provider: code grant, refresh, userinfo, tokens
// for an API, and the API call with a proof, checked by our own requireBearer({ dpop: { required: true } }).
const API = 'https://api.example.test';

let apiUrl = '';
const ROUTES: TestRoute[] = [
  { method: 'get', path: '/userinfo', handler: async ({ oidc }) => ({ userinfo: await oidc?.fetchUserInfo() }) },
  { method: 'get', path: '/main-token', handler: async ({ oidc, query }) => ({ token: await oidc?.getAccessToken({ minTtl: Number(query.minTtl ?? 60) }) }) },
  {
    method: 'get',
    path: '/call-api',
    handler: async ({ oidc, query }) => {
      const bound = await oidc!.getBoundAccessToken({ resource: API });
      const res = query.bearer ? await fetch(`${apiUrl}/api/things`, { headers: { authorization: `Bearer ${bound.accessToken}` } }) : await bound.fetch(`${apiUrl}/api/things`);
      return { tokenType: bound.tokenType, status: res.status, body: await res.json() };
    },
  },
];

interface StoredAuth {
  accessToken: string;
  refreshToken: string;
  tokenType?: string;
  dpopKey?: JWK;
}

let rp: LiveRp | undefined;
let api: RpServer | undefined;
afterEach(async () => {
  await rp?.close();
  await api?.close();
  rp = undefined;
  api = undefined;
});

async function start(adapter: Adapter, options: RpOptions = {}, idp: Record<string, unknown> = {}) {
  const warnings: string[] = [];
  rp = await startLiveRp(
    {
      dpop: true,
      resources: [API],
      scope: 'openid profile read:things',
      logger: { debug() {}, info() {}, warn: (m) => void warnings.push(m), error() {} },
      ...options,
    },
    { resourceServers: { [API]: { scope: 'read:things' } }, useGrantedResource: false, ...idp },
    adapter,
    ROUTES,
  );
  const live = rp;
  api = await startRpServer();
  apiUrl = api.baseUrl;
  api.serve(createApiApp((app) => {
    app.use('/api', requireBearer({ issuer: live.idp.issuer, audience: API, baseUrl: apiUrl, dpop: { required: true } }));
    app.get('/api/things', (req, res) => res.json(describeCaller(req)));
  }));
  const login = async () => {
    const agent = request.agent(live.baseUrl);
    const begin = await agent.get('/login').set('Accept', 'text/html').expect(302);
    const back = await live.idp.login(begin.headers.location as string, { username: 'alice', password: 'alice' });
    await agent.get(localPath(back.url)).expect(302);
    return agent;
  };
  const storedAll = async () => Object.values(await live.sessions()).map((s) => (s as { oidc?: { auth?: StoredAuth } }).oidc?.auth).filter((a): a is StoredAuth => !!a);
  const jktOf = async (token: string) => ((await (live.idp.provider as unknown as import('oidc-provider').default).AccessToken.find(token)) as { jkt?: string } | undefined)?.jkt;
  return { live, login, storedAll, jktOf, warnings };
}

const publicThumbprint = (jwk: JWK) => calculateJwkThumbprint({ kty: jwk.kty as string, crv: jwk.crv as string, x: jwk.x as string, y: jwk.y as string });

describe.each(ADAPTERS)('dpop: true against oidc-provider (%s)', (adapter) => {
  it('binds the login token to a key of this session; userinfo and refresh use it', async () => {
    const { live, login, storedAll, jktOf } = await start(adapter);
    const agent = await login();
    const [auth] = await storedAll();
    expect(auth?.tokenType?.toLowerCase()).toBe('dpop');
    expect(auth?.dpopKey).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', d: expect.any(String) });
    const jkt = await publicThumbprint(auth?.dpopKey as JWK);
    expect(await jktOf(auth?.accessToken as string)).toBe(jkt);
    // oidc-provider refuses a DPoP-bound token sent as Bearer: this passes only with a proof.
    expect((await agent.get('/userinfo').expect(200)).body.userinfo.sub).toBe('alice');
    const refreshed = (await agent.get('/main-token?minTtl=100000').expect(200)).body.token;
    expect(refreshed).not.toBe(auth?.accessToken);
    expect(await jktOf(refreshed)).toBe(jkt);
    await agent.get('/userinfo').expect(200);
    expect(live.idp.counters.userinfo).toBeGreaterThanOrEqual(3);
  });

  it('gives every session its own key', async () => {
    const { login, storedAll } = await start(adapter);
    await login();
    await login();
    const keys = (await storedAll()).map((a) => a.dpopKey?.x);
    expect(keys).toHaveLength(2);
    expect(new Set(keys).size).toBe(2);
  });

  it('a token for an API is DPoP-bound too, and requireBearer({ dpop: { required: true } }) accepts the call with its proof', async () => {
    const { login, storedAll } = await start(adapter);
    const agent = await login();
    const res = await agent.get('/call-api').expect(200);
    expect(res.body).toMatchObject({ tokenType: 'DPoP', status: 200, body: { via: 'bearer', sub: 'alice', scheme: 'DPoP', aud: API } });
    const [auth] = await storedAll();
    const cached = (auth as unknown as { resourceTokens: Record<string, { accessToken: string; tokenType?: string }> }).resourceTokens[API];
    expect(cached?.tokenType?.toLowerCase()).toBe('dpop');
    expect((decodeJwt(cached?.accessToken as string).cnf as { jkt: string }).jkt).toBe(await publicThumbprint(auth?.dpopKey as JWK));
    // The same token without a proof is refused by the API.
    const bearer = await agent.get('/call-api?bearer=1').expect(200);
    expect(bearer.body.status).toBe(401);
  });

  it('an IdP that requires a DPoP nonce: one retry at login, then the nonce is remembered', async () => {
    const { live, login, storedAll, jktOf } = await start(adapter, {}, { dpop: { requireNonce: true } });
    live.idp.resetCounters();
    const agent = await login();
    // use_dpop_nonce, then the retry with the nonce; userinfo (same origin) already has the nonce.
    expect(live.idp.counters.token).toBe(2);
    expect(live.idp.counters.userinfo).toBe(1);
    const [auth] = await storedAll();
    expect(await jktOf(auth?.accessToken as string)).toBe(await publicThumbprint(auth?.dpopKey as JWK));
    live.idp.resetCounters();
    await agent.get('/main-token?minTtl=100000').expect(200);
    await agent.get('/userinfo').expect(200);
    expect(live.idp.counters.token).toBe(1);
    expect(live.idp.counters.userinfo).toBe(1);
    await agent.get('/call-api').expect(200);
  });

  it('an IdP that ignores DPoP: Bearer tokens, no key kept, a warning, and everything still works', async () => {
    const { login, storedAll, warnings } = await start(adapter, {}, { dpop: false });
    const agent = await login();
    const [auth] = await storedAll();
    expect(auth?.tokenType).toBeUndefined();
    expect(auth?.dpopKey).toBeUndefined();
    expect(warnings).toContain('oidc-session: the IdP ignored DPoP and issued a Bearer token');
    await agent.get('/userinfo').expect(200);
    await agent.get('/main-token?minTtl=100000').expect(200);
    const call = await agent.get('/call-api').expect(200);
    expect(call.body.tokenType).toBe('Bearer');
    // The API requires DPoP: a Bearer token is refused there, as it should be.
    expect(call.body.status).toBe(401);
  });

  it('dpop with an app key pair: tokens are bound to that key and no key is stored in the session', async () => {
    const pair = await generateKeyPair('ES256', { extractable: true });
    const { login, storedAll, jktOf } = await start(adapter, { dpop: pair });
    const agent = await login();
    const [auth] = await storedAll();
    expect(auth?.dpopKey).toBeUndefined();
    expect(auth?.tokenType?.toLowerCase()).toBe('dpop');
    expect(await jktOf(auth?.accessToken as string)).toBe(await calculateJwkThumbprint(await exportJWK(pair.publicKey)));
    await agent.get('/userinfo').expect(200);
    expect((await agent.get('/call-api').expect(200)).body.status).toBe(200);
  });
});

describe('BoundAccessToken.fetch() and an API that asks for a nonce', () => {
  it('sends the request once more with the nonce from DPoP-Nonce, and only once', async () => {
    const seen: Array<{ nonce: unknown; htu: unknown; ath: unknown; scheme: string | undefined; typ: unknown }> = [];
    const server = createServer((req, res) => {
      const proof = String(req.headers.dpop ?? '');
      const payload = decodeJwt(proof);
      seen.push({ nonce: payload.nonce, htu: payload.htu, ath: payload.ath, scheme: req.headers.authorization?.split(' ')[0], typ: decodeProtectedHeader(proof).typ });
      if (payload.nonce !== 'server-nonce-1' || req.url === '/always') {
        res.writeHead(401, { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': 'server-nonce-1' });
        return res.end();
      }
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const pair = await generateKeyPair('ES256', { extractable: true });
      const key = { ...(await exportJWK(pair.privateKey)), alg: 'ES256' };
      const bound = boundAccessToken(new DpopKeys({ mode: 'session' }), key, 'the-access-token', 'DPoP');
      expect((await bound.fetch(`${base}/things?x=1`)).status).toBe(200);
      expect(seen.map((s) => s.nonce)).toEqual([undefined, 'server-nonce-1']);
      expect(seen.every((s) => s.scheme === 'DPoP' && s.typ === 'dpop+jwt' && s.htu === `${base}/things`)).toBe(true);
      expect(seen.every((s) => s.ath === createHash('sha256').update('the-access-token').digest('base64url'))).toBe(true);
      seen.length = 0;
      expect((await bound.fetch(`${base}/always`)).status).toBe(401);
      expect(seen).toHaveLength(2);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('dpop: true on another instance (or after a restart)', () => {
  it('a second app sharing the session store refreshes with the session key: the new token has the same binding', async () => {
    const { default: express } = await import('express');
    const { default: session } = await import('express-session');
    const { oidc } = await import('../../lib/express/index.js');
    const { createTestIdp } = await import('../../lib/testing/index.js');
    const { RP_BASE_URL } = await import('../helpers/rp-app.js');
    const idp = await createTestIdp({ clients: [{ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [`${RP_BASE_URL}/callback`] }] });
    try {
      const store = new session.MemoryStore();
      const instance = () => {
        const app = express();
        app.use(session({ name: 'sid', secret: 's', resave: false, saveUninitialized: false, store }));
        const auth = oidc({ issuer: idp.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, dpop: true });
        app.use(auth);
        app.get('/token', async (req, res) => res.json({ token: await req.oidc?.getAccessToken({ minTtl: 100000 }) }));
        return app;
      };
      const [a, b] = [instance(), instance()];
      const onA = request.agent(a);
      const begin = await onA.get('/login').expect(302);
      const back = await idp.login(begin.headers.location as string, { username: 'alice', password: 'alice' });
      await onA.get(localPath(back.url)).expect(302);
      const all = await new Promise<Record<string, { oidc: { auth: StoredAuth } }>>((resolve) => store.all((_e, s) => resolve(s as never)));
      const [id, stored] = Object.entries(all)[0] as [string, { oidc: { auth: StoredAuth } }];
      // The session cookie of A, replayed to B: express-session's signed cookie of this session id.
      const signature = (await import('node:crypto')).createHmac('sha256', 's').update(id).digest('base64').replace(/=+$/, '');
      const res = await request(b).get('/token').set('Cookie', `sid=s%3A${id}.${encodeURIComponent(signature)}`).expect(200);
      expect(res.body.token).not.toBe(stored.oidc.auth.accessToken);
      const jkt = ((await (idp.provider as unknown as import('oidc-provider').default).AccessToken.find(res.body.token)) as { jkt?: string } | undefined)?.jkt;
      expect(jkt).toBe(await publicThumbprint(stored.oidc.auth.dpopKey as JWK));
    } finally {
      await idp.close();
    }
  });
});
