/**
 * Issue 12, app variants: body parsers mounted before us. `express.urlencoded({ extended: true })` (or a
 * Koa body parser) has already consumed and parsed the form; `express.json()` leaves a form alone. The
 * form_post callback and back-channel logout must work either way, on every adapter.
 */
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { variantApp } from '../helpers/app-variants.js';
import type { BodyParser } from '../helpers/app-variants.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS } from '../helpers/rp-app.js';

const EVENT = 'http://schemas.openid.net/event/backchannel-logout';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const VARIANTS = ADAPTERS.flatMap((adapter) => (['urlencoded-extended', 'json'] as BodyParser[]).map((bodyParser) => ({ adapter, bodyParser })));

describe.each(VARIANTS)('body parser before us: form_post and back-channel logout ($adapter, $bodyParser)', ({ adapter, bodyParser }) => {
  const app = () => variantApp({
    adapter,
    errors: 'json',
    bodyParser,
    oidc: { issuer: op.issuer, responseMode: 'form_post', backchannelLogout: true },
    routes: [{ method: 'get', path: '/me', guards: (k) => [k.requireAuth()] }],
  });

  async function formPostLogin(rp: ReturnType<typeof app>): Promise<request.Agent> {
    const agent = request.agent(rp);
    const start = await agent.get('/login').expect(302);
    const answer = new URL(await op.authorize(start.headers.location as string));
    const res = await agent.post('/callback').set('Sec-Fetch-Site', 'same-origin').type('form').send(answer.searchParams.toString());
    expect(res.status).toBe(303);
    return agent;
  }

  it('a form_post login completes: 303, then the session is logged in', async () => {
    const agent = await formPostLogin(app());
    const me = await agent.get('/me').set('Accept', 'application/json').expect(200);
    expect(me.body).toEqual({ via: 'session', sub: 'user-1' });
  });

  it('a back-channel logout token ends the session: 200, the next request is anonymous', async () => {
    const rp = app();
    const agent = await formPostLogin(rp);
    const now = Math.floor(Date.now() / 1000);
    const token = await op.sign({ iss: op.issuer, aud: 'rp', iat: now, exp: now + 120, jti: randomUUID(), events: { [EVENT]: {} }, sid: op.logins.at(-1)?.sid }, { typ: 'logout+jwt' });
    const res = await request(rp).post('/backchannel-logout').type('form').send({ logout_token: token });
    expect(res.status).toBe(200);
    await agent.get('/me').set('Accept', 'application/json').expect(401);
  });
});
