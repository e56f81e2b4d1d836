/**
 * Issue 12: the IdP behaviours real providers differ in, for logging in, userinfo and logging out
 * (refresh and bearer variants live with their own suites). Every variant runs the same journey on
 * Express 5, Express 4 and Koa against the hostile OP: a browser navigates to a guarded page, logs in,
 * sees its user, passes a scope guard, logs out. Variants the RP must refuse end in a 502 with nothing
 * stored.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { navigate, submitForm } from '../helpers/browser-navigation.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, localPath } from '../helpers/rp-app.js';
import type { RpApp, RpOptions, TestRoute } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

const nowSec = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** ID token timestamps as minted by an IdP whose clock is `skewSec` ahead of ours (negative: behind). */
function skewed(skewSec: number): Record<string, number> {
  const t = nowSec() + skewSec;
  return { iat: t, nbf: t, auth_time: t, exp: t + 300 };
}

/** The OP's JWKS with the `kid` of every key removed (and only the RSA key, so the choice is unambiguous). */
async function jwksWithoutKid(): Promise<string> {
  const res = await fetch(`${op.issuer}/jwks`);
  const { keys } = (await res.json()) as { keys: Array<Record<string, unknown>> };
  return JSON.stringify({ keys: keys.filter((key) => key.kty === 'RSA').map(({ kid: _kid, ...key }) => key) });
}

interface Variant {
  name: string;
  options?: RpOptions;
  /** Set the OP up before the login. */
  setup?: () => void | Promise<void>;
  /** Between the first and the second login of the journey (a second browser). */
  between?: () => void | Promise<void>;
  /** Userinfo is called at each login and its claims merged into the user. Default true. */
  userinfo?: boolean;
  /** The RP must refuse the login: the callback's status and error code. */
  refused?: { status: number; error: string };
}

const VARIANTS: Variant[] = [
  { name: 'a correct OP (baseline: scope in the token response, userinfo, kid)' },
  {
    name: 'scope absent from the token response (RFC 6749 §5.1: the scope asked for was granted)',
    setup: () => void (op.behaviour.tokenExtra = { scope: undefined }),
  },
  {
    name: 'no userinfo_endpoint in the discovery document (the ID token is all there is)',
    setup: () => void (op.behaviour.discoveryOverrides = { userinfo_endpoint: undefined }),
    userinfo: false,
  },
  {
    name: 'userinfo off in the app (Entra ID with an API scope: fetchUserinfo false)',
    options: { fetchUserinfo: false },
    userinfo: false,
  },
  {
    name: 'no kid in the ID token header, one RSA key in the JWKS',
    setup: () => {
      op.behaviour.idToken = { kid: null };
      op.behaviour.jwksIncludeEs = false;
    },
  },
  {
    name: 'no kid anywhere: neither in the ID token header nor in the JWKS',
    setup: async () => {
      op.behaviour.idToken = { kid: null };
      op.behaviour.jwksBody = await jwksWithoutKid();
    },
  },
  {
    // Two logins a few milliseconds apart across a rotation are defect 9 (JWKS refetch), tested with its fix.
    name: 'signing key rotated between two logins and the old key withdrawn (second login after jwksCooldown)',
    between: async () => {
      await op.rotateKeys();
      await sleep(1100);
    },
  },
  { name: 'IdP clock 30 s ahead of ours (iat, nbf, auth_time in the future, within clockTolerance)', setup: () => void (op.behaviour.idToken = { claims: skewed(30) }) },
  { name: 'IdP clock 30 s behind ours', setup: () => void (op.behaviour.idToken = { claims: skewed(-30) }) },
  {
    name: 'IdP clock 10 min ahead (beyond clockTolerance): refused',
    setup: () => void (op.behaviour.idToken = { claims: skewed(600) }),
    refused: { status: 502, error: 'ERR_OIDC_INVALID_ID_TOKEN' },
  },
  {
    name: 'IdP clock so far behind that the ID token has expired: refused',
    setup: () => void (op.behaviour.idToken = { claims: skewed(-900) }),
    refused: { status: 502, error: 'ERR_OIDC_INVALID_ID_TOKEN' },
  },
];

const SCOPED: TestRoute = { method: 'get', path: '/scoped', guard: (kit) => kit.requireScopes('openid', 'email'), handler: () => ({ ok: true }) };

/** A browser's login from a guarded page; answers the callback response. */
async function loginFromPage(agent: request.Agent): Promise<request.Response> {
  const page = await navigate(agent.get('/profile'), { site: 'none' }).expect(302);
  const location = page.headers.location as string;
  expect(new URL(location).origin).toBe(op.issuer);
  return navigate(agent.get(localPath(await op.authorize(location))), { userActivated: false });
}

async function expectLoggedIn(rp: RpApp, agent: request.Agent, variant: Variant): Promise<void> {
  const profile = await navigate(agent.get('/profile')).expect(200);
  expect(profile.body).toMatchObject({ sub: 'user-1', iss: op.issuer, email: 'user-1@example.test' });
  if (variant.userinfo === false) expect(profile.body).not.toHaveProperty('nickname');
  else expect(profile.body.nickname).toBe('from-userinfo');
  await navigate(agent.get('/scoped')).expect(200);
  expect(rp.errors).toEqual([]);
}

describe.each(ADAPTERS)('IdP variants (%s)', (adapter) => {
  it.each(VARIANTS)('$name', async (variant) => {
    op.behaviour.userinfoClaims = { nickname: 'from-userinfo' };
    await variant.setup?.();
    const rp = createRp(adapter, { issuer: op.issuer, ...variant.options }, [SCOPED]);
    const first = request.agent(rp.app);
    const back = await loginFromPage(first);

    if (variant.refused) {
      expect(back.status).toBe(variant.refused.status);
      expect(back.body.error).toBe(variant.refused.error);
      expect(JSON.stringify(await rp.sessions())).not.toMatch(/"auth"|idToken|accessToken/);
      await first.get('/api/me').set('Accept', 'application/json').expect(401);
      return;
    }
    expect(back.status).toBe(302);
    expect(back.headers.location).toBe('/profile');
    await expectLoggedIn(rp, first, variant);
    expect(op.counters.userinfo).toBe(variant.userinfo === false ? 0 : 1);

    // A second browser logs in after whatever the IdP does between two logins.
    await variant.between?.();
    const second = request.agent(rp.app);
    expect((await loginFromPage(second)).status).toBe(302);
    await expectLoggedIn(rp, second, variant);
    // The first browser is not affected by the IdP's change (its ID token was verified at login).
    await navigate(first.get('/profile')).expect(200);

    await submitForm(second.post('/logout')).expect(303);
    await second.get('/api/me').set('Accept', 'application/json').expect(401);
    await first.get('/api/me').set('Accept', 'application/json').expect(200);
  });
});
