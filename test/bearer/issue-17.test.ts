/**
 * Issue 17: RFC 7662 makes `aud` and `token_type` optional, and LemonLDAP::NG sends neither. An aud-less
 * answer is accepted when the rest binds the token to us (active, client_id ours, exp, iss when present);
 * each variant below changes one member of such an answer. The IdP is a canned fetch: discovery plus an
 * introspection endpoint answering what the test says, recording what it was asked.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requireBearer } from '../../lib/express/index.js';
import type { BearerOptions } from '../../lib/express/index.js';
import { createApiApp, describeCaller, parseChallenge } from '../helpers/api-app.js';

const ISSUER = 'https://op.example.test';
const OWN = { clientId: 'exampleapp', clientSecret: 'exampleappsecret' };
const NOW = 1_800_000_000_000;

/** What LemonLDAP::NG 2.16 answered for one of its opaque access tokens (values changed). */
function llngAnswer(): Record<string, unknown> {
  return { active: true, client_id: OWN.clientId, sub: 'alice', scope: 'openid profile email', exp: NOW / 1000 + 30, iss: ISSUER };
}

function cannedIdp(answer: Record<string, unknown>): { fetch: typeof fetch; introspections: () => number } {
  let introspections = 0;
  const json = (body: unknown) => new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } });
  const fake = (async (input: RequestInfo | URL) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.pathname === '/.well-known/openid-configuration') {
      return json({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks`, introspection_endpoint: `${ISSUER}/introspect`, token_endpoint: `${ISSUER}/token` });
    }
    if (url.pathname === '/introspect') {
      introspections++;
      return json(answer);
    }
    return new Response('not found', { status: 404 });
  }) as typeof fetch;
  return { fetch: fake, introspections: () => introspections };
}

async function call(answer: Record<string, unknown>, options: Partial<BearerOptions> = {}) {
  const idp = cannedIdp(answer);
  const app = createApiApp((a) => {
    a.use('/api', requireBearer({ issuer: ISSUER, audience: OWN.clientId, introspection: OWN, customFetch: idp.fetch, clock: () => NOW, ...options }));
    a.get('/api/things', (req, res) => res.json(describeCaller(req)));
  });
  const res = await request(app).get('/api/things').set('Authorization', 'Bearer opaque-token-from-the-idp');
  expect(idp.introspections()).toBe(1);
  return { res, description: res.status === 401 ? parseChallenge(res.headers['www-authenticate']).params.error_description : undefined };
}

describe('introspection answers without aud (RFC 7662 §2.2, LemonLDAP::NG)', () => {
  it('accepts the aud-less, type-less answer for a token issued to the introspecting client', async () => {
    const { res } = await call(llngAnswer());
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ via: 'bearer', sub: 'alice', clientId: OWN.clientId });
  });

  it('accepts it without iss too (iss is checked only when present)', async () => {
    const { iss: _iss, ...answer } = llngAnswer();
    expect((await call(answer)).res.status).toBe(200);
  });

  it('accepts token_type bearer (any case) and DPoP-less "Bearer"', async () => {
    expect((await call({ ...llngAnswer(), token_type: 'Bearer' })).res.status).toBe(200);
    expect((await call({ ...llngAnswer(), token_type: 'bearer' })).res.status).toBe(200);
  });

  it('refuses a token_type that is not an access token (refresh_token)', async () => {
    const { res, description } = await call({ ...llngAnswer(), token_type: 'refresh_token' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_TOKEN');
    expect(description).toMatch(/not an access token/);
  });

  it('refuses an aud-less token issued to another client', async () => {
    const { res, description } = await call({ ...llngAnswer(), client_id: 'someoneelse' });
    expect(res.status).toBe(401);
    expect(description).toMatch(/another audience/);
  });

  it('refuses an aud-less token without client_id', async () => {
    const { client_id: _c, ...answer } = llngAnswer();
    expect((await call(answer)).res.status).toBe(401);
  });

  it('refuses an aud-less token when the introspecting client is not one of the audiences', async () => {
    const { res, description } = await call(llngAnswer(), { audience: 'https://api.example.test' });
    expect(res.status).toBe(401);
    expect(description).toMatch(/another audience/);
  });

  it('refuses an aud-less token without exp (nothing bounds its life)', async () => {
    const { exp: _e, ...answer } = llngAnswer();
    const { res, description } = await call(answer);
    expect(res.status).toBe(401);
    expect(description).toMatch(/another audience/);
  });

  it('refuses an expired one, an inactive one and one from another issuer', async () => {
    const expired = await call({ ...llngAnswer(), exp: NOW / 1000 - 120 });
    expect(expired.description).toMatch(/expired/);
    const inactive = await call({ active: false });
    expect(inactive.description).toMatch(/not active/);
    const foreign = await call({ ...llngAnswer(), iss: 'https://other.example.test' });
    expect(foreign.description).toMatch(/another issuer/);
  });

  it('strict: true still requires token_type', async () => {
    const { res, description } = await call(llngAnswer(), { strict: true });
    expect(res.status).toBe(401);
    expect(description).toMatch(/not an access token/);
    expect((await call({ ...llngAnswer(), token_type: 'Bearer' }, { strict: true })).res.status).toBe(200);
  });
});

describe('introspection answers with aud', () => {
  it('accepts our audience with or without token_type, from any client', async () => {
    expect((await call({ ...llngAnswer(), aud: OWN.clientId, client_id: 'someoneelse' })).res.status).toBe(200);
    expect((await call({ ...llngAnswer(), aud: [OWN.clientId, 'x'], token_type: 'Bearer' })).res.status).toBe(200);
  });

  it('refuses another audience even when client_id is ours', async () => {
    const { res, description } = await call({ ...llngAnswer(), aud: 'https://other-api.example.test' });
    expect(res.status).toBe(401);
    expect(description).toMatch(/another audience/);
  });
});
