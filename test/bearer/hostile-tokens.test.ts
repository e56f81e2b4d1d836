import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { claimEquals, claimIncludes, requireBearer, requireRoles } from '../../lib/express/index.js';
import type { BearerOptions } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp, SignHeader } from '../helpers/hostile-op.js';
import { createApiApp, describeCaller, parseChallenge } from '../helpers/api-app.js';

const API = 'https://api.example.test';
let op: HostileOp;

beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(async () => {
  await op?.close();
});
beforeEach(() => op.reset());

const now = (): number => Math.floor(Date.now() / 1000);

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = now();
  const base: Record<string, unknown> = {
    iss: op.issuer, aud: API, sub: 'user-1', client_id: 'spa', scope: 'read:things', iat, exp: iat + 300, jti: randomUUID(),
  };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete base[key];
    else base[key] = value;
  }
  return base;
}

function token(overrides: Record<string, unknown> = {}, header: SignHeader = {}): Promise<string> {
  return op.sign(claims(overrides), { typ: 'at+jwt', ...header });
}

function apiApp(options: Partial<BearerOptions> = {}) {
  return createApiApp((app) => {
    app.use('/api', requireBearer({ issuer: op.issuer, audience: API, ...options }));
    app.get('/api/things', (req, res) => res.json(describeCaller(req)));
    app.get('/api/admin', requireRoles('admin'), (req, res) => res.json(describeCaller(req)));
    app.get('/api/tenant', claimEquals('https://example.test/tenant', 'acme'), (req, res) => res.json(describeCaller(req)));
    app.get('/api/groups', claimIncludes('realm_access.roles', 'editor'), (req, res) => res.json(describeCaller(req)));
  });
}

async function rejected(app: ReturnType<typeof apiApp>, jwt: string, description: RegExp): Promise<void> {
  const res = await request(app).get('/api/things').set('Authorization', `Bearer ${jwt}`);
  expect(res.status).toBe(401);
  const challenge = parseChallenge(res.headers['www-authenticate']);
  expect(challenge.scheme).toBe('Bearer');
  expect(challenge.params.error).toBe('invalid_token');
  expect(challenge.params.error_description).toMatch(description);
  expect(res.body.error).toBe('ERR_OIDC_INVALID_TOKEN');
}

describe('requireBearer() against hostile tokens', () => {
  it('accepts a well-formed token (the baseline the other cases change one thing of)', async () => {
    const res = await request(apiApp()).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
    expect(res.body).toMatchObject({ sub: 'user-1', clientId: 'spa', scopes: ['read:things'] });
  });

  it('refuses an expired token, but tolerates the configured clock skew', async () => {
    const app = apiApp({ clockTolerance: 60 });
    await rejected(app, await token({ exp: now() - 61 }), /expired/);
    await request(app).get('/api/things').set('Authorization', `Bearer ${await token({ exp: now() - 30 })}`).expect(200);
    await rejected(apiApp({ clockTolerance: 0 }), await token({ exp: now() - 2 }), /expired/);
  });

  it('refuses a token that is not valid yet (nbf)', async () => {
    await rejected(apiApp(), await token({ nbf: now() + 120 }), /not valid yet/);
  });

  it('refuses a token without exp (it would never expire)', async () => {
    await rejected(apiApp(), await token({ exp: undefined }), /no exp claim/);
  });

  it('refuses a token for another audience, or with no audience', async () => {
    await rejected(apiApp(), await token({ aud: 'https://other-api.example.test' }), /another audience/);
    await rejected(apiApp(), await token({ aud: undefined }), /no aud claim/);
  });

  it('refuses a token from another issuer, signed with the right key', async () => {
    await rejected(apiApp(), await token({ iss: 'https://attacker.example' }), /another issuer/);
  });

  it('refuses alg none', async () => {
    await rejected(apiApp(), await token({}, { alg: 'none' }), /algorithm/);
  });

  it('refuses HS256 keyed with the public key (PEM bytes or JWK JSON), without fetching anything for it', async () => {
    const app = apiApp();
    await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
    const jwksBefore = op.counters.jwks;
    await rejected(app, await token({}, { alg: 'HS256', key: 'rs' }), /algorithm/);
    await rejected(app, await token({}, { alg: 'HS256', key: 'secret' }), /algorithm/);
    expect(op.counters.jwks).toBe(jwksBefore);
  });

  it('refuses ES256 when only RS256 is allowed, and accepts it under the default asymmetric list', async () => {
    const es = await token({}, { alg: 'ES256' });
    await rejected(apiApp({ algorithms: ['RS256'] }), es, /algorithm/);
    await request(apiApp()).get('/api/things').set('Authorization', `Bearer ${es}`).expect(200);
  });

  it('refuses a forged signature (a key the issuer does not publish, under its kid) and a flipped bit', async () => {
    await rejected(apiApp(), await token({}, { key: 'other-rs' }), /signature is invalid/);
    const good = await token();
    const flipped = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    await rejected(apiApp(), flipped, /signature|malformed/);
  });

  it('refuses garbage and a JWT with a broken payload', async () => {
    await rejected(apiApp(), 'a.b.c', /malformed/);
    const [header, , signature] = (await token()).split('.');
    await rejected(apiApp(), `${header}.${Buffer.from('not json').toString('base64url')}.${signature}`, /malformed|signature/);
  });

  describe('typ', () => {
    it('strict: requires at+jwt (also as application/at+jwt)', async () => {
      await rejected(apiApp({ strict: true }), await token({}, { typ: 'JWT' }), /typ/);
      await request(apiApp({ strict: true })).get('/api/things').set('Authorization', `Bearer ${await token({}, { typ: 'application/at+jwt' })}`).expect(200);
    });

    it('strict: requires every RFC 9068 claim', async () => {
      for (const claim of ['jti', 'client_id', 'sub', 'iat']) {
        await rejected(apiApp({ strict: true }), await token({ [claim]: undefined }), new RegExp(`no ${claim} claim`));
      }
    });

    it('lax (default): accepts typ JWT and no typ, refuses other token types (ID-token confusion, logout tokens, DPoP proofs)', async () => {
      const app = apiApp();
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token({}, { typ: 'JWT' })}`).expect(200);
      await request(app).get('/api/things').set('Authorization', `Bearer ${await op.sign(claims())}`).expect(200);
      for (const typ of ['logout+jwt', 'dpop+jwt', 'application/id_token+jwt']) {
        await rejected(app, await token({}, { typ }), /not an access token/);
      }
    });
  });

  describe('unknown kid flood', () => {
    it('100 tokens with random kids cost at most 2 JWKS fetches within the 30 s cool-down', async () => {
      const app = apiApp();
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
      const flood = await Promise.all(Array.from({ length: 100 }, () => token({}, { kid: randomUUID() })));
      for (let i = 0; i < flood.length; i += 20) {
        await Promise.all(flood.slice(i, i + 20).map((jwt) => rejected(app, jwt, /key the issuer does not publish/)));
      }
      expect(op.counters.jwks).toBeLessThanOrEqual(2);
      expect(op.counters.discovery).toBe(1);
      // the good token still passes from the cached keys
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
    });

    it('without a cool-down the same flood would hit the IdP on nearly every token (what the default prevents)', async () => {
      const app = apiApp({ jwksCooldown: 0 });
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
      for (let i = 0; i < 20; i++) await rejected(app, await token({}, { kid: randomUUID() }), /key/);
      expect(op.counters.jwks).toBeGreaterThan(15);
    });

    it('picks up a rotated key once the cool-down has passed', async () => {
      const app = apiApp({ jwksCooldown: 1 });
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
      await op.rotateKeys();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
      expect(op.counters.jwks).toBe(2);
    });
  });

  describe('when the IdP fails', () => {
    it('answers 502 (not 401) when the JWKS cannot be fetched, and recovers', async () => {
      op.behaviour.jwksStatus = 500;
      const app = apiApp();
      const res = await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(502);
      expect(res.body.error).toBe('ERR_OIDC_DISCOVERY_FAILED');
      op.behaviour.jwksStatus = 200;
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
    });

    it('answers 504 when the JWKS endpoint hangs past httpTimeout', async () => {
      op.behaviour.jwksDelayMs = 2000;
      const res = await request(apiApp({ httpTimeout: 200 })).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(504);
      expect(res.body.error).toBe('ERR_OIDC_IDP_TIMEOUT');
    });

    it('answers 502 when discovery fails, and retries discovery on the next request', async () => {
      op.behaviour.discoveryStatus = 500;
      const app = apiApp();
      const res = await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(502);
      expect(res.body.error).toBe('ERR_OIDC_DISCOVERY_FAILED');
      op.behaviour.discoveryStatus = 200;
      await request(app).get('/api/things').set('Authorization', `Bearer ${await token()}`).expect(200);
      expect(op.counters.discovery).toBe(2);
    });

    it('never asks the IdP anything for a request without a token', async () => {
      await request(apiApp()).get('/api/things').expect(401);
      expect(op.counters.discovery + op.counters.jwks).toBe(0);
    });
  });
});

describe('the claim and role guards after requireBearer()', () => {
  it('requireRoles reads the token\'s roles claim: 403 with an insufficient_scope challenge when missing', async () => {
    const app = apiApp();
    await request(app).get('/api/admin').set('Authorization', `Bearer ${await token({ roles: ['admin'] })}`).expect(200);
    const res = await request(app).get('/api/admin').set('Authorization', `Bearer ${await token({ roles: ['user'] })}`).expect(403);
    expect(res.body.error).toBe('ERR_OIDC_FORBIDDEN');
    expect(parseChallenge(res.headers['www-authenticate'])).toMatchObject({ scheme: 'Bearer', params: { error: 'insufficient_scope' } });
  });

  it('claimEquals on a namespaced claim and claimIncludes on a dot path', async () => {
    const app = apiApp();
    await request(app).get('/api/tenant').set('Authorization', `Bearer ${await token({ 'https://example.test/tenant': 'acme' })}`).expect(200);
    await request(app).get('/api/tenant').set('Authorization', `Bearer ${await token({ 'https://example.test/tenant': 'evil' })}`).expect(403);
    await request(app).get('/api/groups').set('Authorization', `Bearer ${await token({ realm_access: { roles: ['editor', 'viewer'] } })}`).expect(200);
    await request(app).get('/api/groups').set('Authorization', `Bearer ${await token({ realm_access: { roles: ['viewer'] } })}`).expect(403);
  });

  it('reads scopes from an scp array or string (Entra, Okta) as well as scope', async () => {
    const app = apiApp({ scopes: ['read:things'] });
    const arr = await request(app).get('/api/things').set('Authorization', `Bearer ${await token({ scope: undefined, scp: ['read:things', 'x'] })}`).expect(200);
    expect(arr.body.scopes).toEqual(['read:things', 'x']);
    await request(app).get('/api/things').set('Authorization', `Bearer ${await token({ scope: undefined, scp: 'read:things y' })}`).expect(200);
    await request(app).get('/api/things').set('Authorization', `Bearer ${await token({ scope: 'read:thingsX' })}`).expect(403);
  });
});
