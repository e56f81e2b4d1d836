/**
 * Issue 12, defect 8: attacker text in an exposed error. With a body parser that nests bracketed names
 * (`express.urlencoded({ extended: true })`, a Koa body parser) mounted before us, a cross-site
 * `POST /callback` whose field name is markup got a 400 whose `expose: true` message repeated that name;
 * an authorization response's `error` was shown with only its punctuation removed. Exposed messages never
 * contain request text.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { variantApp } from '../helpers/app-variants.js';
import type { BodyParser } from '../helpers/app-variants.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS } from '../helpers/rp-app.js';

const MARKUP = '<img src=x onerror=alert(document.domain)>';
let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** Nothing of the attacker's text in the answer, whatever the handler shows. */
function expectNoRequestText(res: request.Response): void {
  expect(res.text).not.toMatch(/img|onerror|alert|document\.domain/i);
}

const VARIANTS = ADAPTERS.flatMap((adapter) => (['urlencoded-extended', 'json'] as BodyParser[]).map((bodyParser) => ({ adapter, bodyParser })));

describe.each(VARIANTS)('issue 12 defect 8: no request text in exposed errors ($adapter, $bodyParser body parser before us)', ({ adapter, bodyParser }) => {
  const app = () => variantApp({ adapter, errors: 'json', bodyParser, oidc: { issuer: op.issuer, backchannelLogout: true } });

  it('CB-20 a cross-site POST /callback whose field name is markup (a form, or JSON for the JSON parser): 400, the message names no field', async () => {
    const post = request(app()).post('/callback').set('Sec-Fetch-Site', 'cross-site').set('Origin', 'https://evil.example');
    const res = bodyParser === 'json'
      ? await post.type('json').send(JSON.stringify({ [MARKUP]: { a: 1 }, state: 's', code: 'c' }))
      : await post.type('form').send(`${encodeURIComponent(MARKUP)}[a]=1&state=s&code=c`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('ERR_OIDC_INVALID_CALLBACK');
    expect(res.body.message).not.toBe('error');
    expectNoRequestText(res);
  });

  it('CB-24 / ERR-06 an authorization response whose error is markup: refused with the code withheld, the raw value nowhere in the answer', async () => {
    const rp = app();
    const agent = request.agent(rp);
    const start = await agent.get('/login').expect(302);
    const state = new URL(start.headers.location as string).searchParams.get('state') as string;
    const query = new URLSearchParams({ state, iss: op.issuer, error: MARKUP, error_description: MARKUP });
    const res = await agent.get(`/callback?${query}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'ERR_OIDC_ACCESS_DENIED', message: 'The IdP refused the login (an unregistered error code)' });
    expectNoRequestText(res);
  });

  it('a registered error code is still shown', async () => {
    const agent = request.agent(app());
    const start = await agent.get('/login').expect(302);
    const state = new URL(start.headers.location as string).searchParams.get('state') as string;
    const res = await agent.get(`/callback?${new URLSearchParams({ state, iss: op.issuer, error: 'consent_required' })}`);
    expect(res.body).toEqual({ error: 'ERR_OIDC_ACCESS_DENIED', message: 'The IdP refused the login (consent_required)' });
  });

  it('BCL-15 a back-channel logout whose field name is markup: 400 invalid_request, nothing of it echoed', async () => {
    const res = await request(app()).post('/backchannel-logout').type('form').send(`logout_token[${encodeURIComponent(MARKUP)}]=x`);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
    expectNoRequestText(res);
  });
});
