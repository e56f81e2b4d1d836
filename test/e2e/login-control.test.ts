import { exportJWK, generateKeyPair } from 'jose';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestIdp } from '../../lib/testing/index.js';
import type { TestIdp } from '../../lib/testing/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { startLiveRp, startRpServer } from '../helpers/live-rp.js';
import type { LiveRp } from '../helpers/live-rp.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { Adapter, RpApp, RpOptions, TestRoute } from '../helpers/rp-app.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()?.();
});

async function live(adapter: Adapter, options: RpOptions = {}, routes: TestRoute[] = []): Promise<LiveRp> {
  const rp = await startLiveRp(options, {}, adapter, routes);
  closers.push(() => rp.close());
  return rp;
}

describe.each(ADAPTERS)('login control against oidc-provider (%s)', (adapter) => {
  it('PAR: the browser carries only request_uri and client_id', async () => {
    const rp = await live(adapter, { pushedAuthorizationRequests: true });
    const agent = request.agent(rp.baseUrl);
    const start = await agent.get('/login').expect(302);
    const q = new URL(start.headers.location as string).searchParams;
    expect([...q.keys()].sort()).toEqual(['client_id', 'request_uri']);
    const back = await rp.idp.login(start.headers.location as string, { username: 'alice', password: 'alice' });
    await agent.get(localPath(back.url)).expect(302);
    await agent.get('/api/me').expect(200);
  });

  it('form_post: a cross-site POST without the SameSite=Lax cookie is re-posted from our origin, then completes', async () => {
    const rp = await live(adapter, { responseMode: 'form_post' });
    const agent = request.agent(rp.baseUrl);
    const start = await agent.get('/login').expect(302);
    expect(new URL(start.headers.location as string).searchParams.get('response_mode')).toBe('form_post');
    const back = await rp.idp.login(start.headers.location as string, { username: 'alice', password: 'alice' });
    if (back.method !== 'POST') throw new Error('expected form_post');
    // The browser drops the Lax cookie on the IdP's cross-site POST: no cookie here.
    const bounce = await request(rp.baseUrl).post(localPath(back.url)).type('form').send(back.body.toString());
    expect(bounce.status).toBe(200);
    expect(bounce.text).toContain('name="oidc_resubmit"');
    const fields = [...bounce.text.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map(([, n, v]) => [n, v] as [string, string]);
    const done = await agent.post(localPath(back.url)).type('form').send(new URLSearchParams(fields).toString());
    expect(done.status).toBe(303);
    await agent.get('/api/me').expect(200);
  });

  it('step-up with acr_values: the IdP re-authenticates with "mfa" and the route opens', async () => {
    const rp = await live(adapter, {}, [{ method: 'get', path: '/mfa', guard: { acrValues: 'mfa' }, handler: ({ oidc }) => ({ acr: oidc?.idTokenClaims?.acr }) }]);
    const agent = request.agent(rp.baseUrl);
    const first = await agent.get('/login').expect(302);
    await agent.get(localPath((await rp.idp.login(first.headers.location as string, { username: 'alice', password: 'alice' })).url)).expect(302);
    const stepUp = await agent.get('/mfa').set('Accept', 'text/html').expect(302);
    const back = await rp.idp.login(stepUp.headers.location as string, { username: 'alice', password: 'alice' });
    await agent.get(localPath(back.url)).expect(302);
    expect((await agent.get('/mfa').expect(200)).body.acr).toBe('mfa');
  });

  it('private_key_jwt client authentication', async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
    const privateJwk = { ...(await exportJWK(privateKey)), alg: 'RS256' };
    const publicJwk = { ...(await exportJWK(publicKey)), alg: 'RS256', use: 'sig' };
    const server = await startRpServer();
    const { baseUrl } = server;
    const idp = await createTestIdp({
      clients: [{ client_id: 'pkjwt', token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicJwk] }, redirect_uris: [`${baseUrl}/callback`] }],
    });
    closers.push(async () => {
      await server.close();
      await idp.close();
    });
    const rp = createRp(adapter, { issuer: idp.issuer, baseUrl, clientId: 'pkjwt', clientSecret: undefined, clientAuthMethod: 'private_key_jwt', privateKey: privateJwk });
    server.serve(rp.app);
    const agent = request.agent(baseUrl);
    const start = await agent.get('/login').expect(302);
    const back = await idp.login(start.headers.location as string, { username: 'bob', password: 'bob' });
    await agent.get(localPath(back.url)).expect(302);
    expect((await agent.get('/api/me').expect(200)).body.user.sub).toBe('bob');
  });

  it('a public client (no secret) logs in with PKCE only', async () => {
    const server = await startRpServer();
    const { baseUrl } = server;
    const idp = await createTestIdp({ clients: [{ client_id: 'spa', token_endpoint_auth_method: 'none', redirect_uris: [`${baseUrl}/callback`] }] });
    closers.push(async () => {
      await server.close();
      await idp.close();
    });
    const rp = createRp(adapter, { issuer: idp.issuer, baseUrl, clientId: 'spa', clientSecret: undefined });
    server.serve(rp.app);
    const agent = request.agent(baseUrl);
    const start = await agent.get('/login').expect(302);
    await agent.get(localPath((await idp.login(start.headers.location as string, { username: 'bob', password: 'bob' })).url)).expect(302);
    await agent.get('/api/me').expect(200);
  });
});

describe.each(ADAPTERS)('several IdPs in one app (%s)', (adapter) => {
  async function twoIdps(): Promise<{ rp: RpApp; baseUrl: string; corp: TestIdp; partner: TestIdp; op: HostileOp }> {
    const server = await startRpServer();
    const { baseUrl } = server;
    const client = (id: string) => ({ client_id: 'rp', client_secret: 'rp-secret', redirect_uris: [`${baseUrl}/callback/${id}`] });
    const corp = await createTestIdp({ clients: [client('corp')] });
    const partner = await createTestIdp({ clients: [client('partner')], users: [{ username: 'pat', password: 'pat', claims: { name: 'Pat' } }] });
    const op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
    closers.push(async () => {
      await server.close();
      await Promise.all([corp.close(), partner.close(), op.close()]);
    });
    const rp = createRp(
      adapter,
      {
        clientId: undefined,
        clientSecret: undefined,
        baseUrl,
        providers: [
          { id: 'corp', issuer: corp.issuer, clientId: 'rp', clientSecret: 'rp-secret' },
          { id: 'partner', issuer: partner.issuer, clientId: 'rp', clientSecret: 'rp-secret' },
          { id: 'evil', issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret' },
        ],
      },
      [{ method: 'get', path: '/which', handler: ({ oidc, user }) => ({ provider: oidc?.provider, sub: user?.sub }) }],
    );
    server.serve(rp.app);
    return { rp, baseUrl, corp, partner, op };
  }

  it('logs in with the provider asked for; the first one by default; each has its own redirect URI', async () => {
    const { baseUrl, corp, partner } = await twoIdps();
    const agent = request.agent(baseUrl);
    const start = await agent.get('/login?provider=partner').expect(302);
    expect(start.headers.location?.startsWith(partner.issuer)).toBe(true);
    expect(new URL(start.headers.location as string).searchParams.get('redirect_uri')).toBe(`${baseUrl}/callback/partner`);
    await agent.get(localPath((await partner.login(start.headers.location as string, { username: 'pat', password: 'pat' })).url)).expect(302);
    expect((await agent.get('/which')).body).toEqual({ provider: 'partner', sub: 'pat' });
    const other = request.agent(baseUrl);
    const def = await other.get('/login').expect(302);
    expect(def.headers.location?.startsWith(corp.issuer)).toBe(true);
  });

  it('answers 400 ERR_OIDC_UNKNOWN_PROVIDER for an unknown provider', async () => {
    const { baseUrl } = await twoIdps();
    const res = await request(baseUrl).get('/login?provider=nope');
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_UNKNOWN_PROVIDER');
  });

  it('refuses a mix-up: a response from one IdP delivered to another IdP\'s callback', async () => {
    const { baseUrl, corp, op } = await twoIdps();
    const agent = request.agent(baseUrl);
    const start = await agent.get('/login?provider=corp').expect(302);
    const back = new URL((await corp.login(start.headers.location as string, { username: 'alice', password: 'alice' })).url);
    const before = op.counters.token + corp.counters.token;
    const res = await agent.get(`/callback/evil${back.search}`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(op.counters.token + corp.counters.token).toBe(before);
    await agent.get('/api/me').expect(401);
  });

  it('refuses an evil IdP answering with the honest IdP\'s iss', async () => {
    const { baseUrl, corp, op } = await twoIdps();
    const agent = request.agent(baseUrl);
    const start = await agent.get('/login?provider=evil').expect(302);
    op.behaviour.extraCallbackParams = {};
    const cb = new URL(await op.authorize(start.headers.location as string));
    cb.searchParams.set('iss', corp.issuer);
    const res = await agent.get(localPath(cb.href));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(op.counters.token).toBe(0);
  });
});
