/**
 * The example app, unchanged and configured through the environment only, against LemonLDAP::NG 2.16
 * (OpenID certified; no code shared with oidc-provider), in real Chromium, through the OP's own login,
 * consent and logout pages. Every describe restarts the OP: fresh sessions, no stored consent.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { ADAPTERS } from './example-app.js';
import type { Adapter } from './example-app.js';
import { LEMONLDAP_APP_URL as APP_URL, startLemonldap } from './ops.js';
import type { LemonldapSettings } from './ops.js';
import { appPages, claimRow, llngConfirmLogout, llngConsent, llngSignIn } from './pages.js';
import { useOpAndApp } from './setup.js';
import type { Running } from './setup.js';
import type { Page } from 'playwright-core';

const ISSUER = 'http://127.0.0.1:22100';
/** Access token lifetime (s): short, so that the automatic refresh is reached without a long wait. */
const TTL = 5;
const { accessTokenExpiry, expectLoggedOutHome, logOut, me, visit } = appPages(APP_URL);

function setUp(adapter: Adapter, settings: LemonldapSettings): Running {
  return useOpAndApp(adapter, () => startLemonldap(settings));
}

/** From the app's /login to the page asked for, through the portal's form and (the first time) its consent page. */
async function logIn(page: Page, user: string, password: string, path = '/profile'): Promise<'consent' | 'no consent'> {
  await page.goto(`${APP_URL}/login?returnTo=${path}`);
  expect(page.url().startsWith(`${ISSUER}/oauth2/authorize?`)).toBe(true);
  await llngSignIn(page, user, password);
  const next = await Promise.race([
    page.locator('.oidc_consent_message').waitFor().then(() => 'consent' as const),
    page.waitForURL((url) => url.origin === APP_URL).then(() => 'no consent' as const),
  ]);
  if (next === 'consent') await llngConsent(page, 'accept');
  await page.waitForURL(`${APP_URL}${path}`);
  return next;
}

describe.each(ADAPTERS)('LemonLDAP::NG 2.16, opaque access tokens, %s example app', (adapter) => {
  const { app, inBrowser } = setUp(adapter, { accessTokenTtl: TTL });

  it('logs alice in through the login form and the consent page: ID token and userinfo claims, admin page', () => inBrowser(async ({ page, context }) => {
    expect(await logIn(page, 'alice', 'wonderland')).toBe('consent');
    const { status, user } = await me(context);
    expect(status).toBe(200);
    // sub / iss from the ID token; name, email and roles from userinfo (claims follow the granted scopes)
    expect(user).toMatchObject({ sub: 'alice', iss: ISSUER, name: 'Alice Liddell', email: 'alice@example.org', roles: ['admin'] });
    if (adapter === 'express') {
      await page.goto(`${APP_URL}/profile`);
      expect(await claimRow(page, 'email').textContent()).toContain('userinfo');
      expect(await claimRow(page, 'nonce').textContent()).toContain('ID token (protocol)');
    }
    const admin = await visit(page, '/admin');
    expect(admin.status).toBe(200);
    expect(admin.text).toMatch(/admin/);
  }));

  it('refreshes the access token automatically once it has expired', () => inBrowser(async ({ page, context }) => {
    expect(await logIn(page, 'alice', 'wonderland')).toBe('no consent');
    const before = await accessTokenExpiry(adapter, page, context);
    await sleep(Math.max(0, before * 1000 - Date.now()) + 1500);
    const after = await accessTokenExpiry(adapter, page, context);
    expect(after).toBeGreaterThan(before);
    expect((await me(context)).user?.sub).toBe('alice');
  }));

  if (adapter === 'express') {
    it('"Refresh now" gets new tokens; the API page calls /api with the opaque access token (introspection)', () => inBrowser(async ({ page }) => {
      await logIn(page, 'alice', 'wonderland', '/tokens');
      expect(await page.locator('#access-opaque').isVisible()).toBe(true);
      const access = await page.textContent('#access-fingerprint');
      const refresh = await page.textContent('#refresh-fingerprint');
      await page.click('#refresh');
      await page.waitForURL(`${APP_URL}/tokens?refreshed=1`);
      expect(await page.textContent('#access-fingerprint')).not.toBe(access);
      // LL::NG 2.16 keeps the refresh token (no rotation)
      expect(await page.textContent('#refresh-fingerprint')).toBe(refresh);
      // issue 17: LL::NG's introspection answer has neither aud nor token_type
      await page.goto(`${APP_URL}/api`);
      expect(await page.textContent('#api-status')).toBe('200');
      expect(JSON.parse((await page.textContent('#api-body')) ?? '{}')).toMatchObject({ requestedBy: 'alice', via: 'Bearer token' });
    }));
  }

  it('local logout ends the app session only: the next login comes back without the form', () => inBrowser(async ({ page, context }) => {
    await logIn(page, 'alice', 'wonderland');
    await logOut(page, 'local');
    await expectLoggedOutHome(page, context);
    await page.goto(`${APP_URL}/login?returnTo=/profile`);
    await page.waitForURL(`${APP_URL}/profile`);
    expect((await me(context)).user?.sub).toBe('alice');
  }));

  it('RP-initiated logout ends the OP session too, after its confirmation page', () => inBrowser(async ({ page, context }) => {
    await logIn(page, 'alice', 'wonderland');
    await logOut(page, 'idp');
    await llngConfirmLogout(page);
    await expectLoggedOutHome(page, context);
    await page.goto(`${APP_URL}/login?returnTo=/profile`);
    await page.locator('#lform').waitFor();
  }));

  it('answers bob (role user) with a 403 on the admin page, not a login', () => inBrowser(async ({ page, context }) => {
    expect(await logIn(page, 'bob', 'builder')).toBe('consent');
    expect((await me(context)).user).toMatchObject({ sub: 'bob', roles: ['user'] });
    const admin = await visit(page, '/admin');
    expect(admin.status).toBe(403);
    expect(page.url()).toBe(`${APP_URL}/admin`);
  }));

  it('carol refuses the consent: LL::NG answers consent_required, the app 401 ERR_OIDC_ACCESS_DENIED, no session', () => inBrowser(async ({ page, context }) => {
    const logged = app().output().length;
    await page.goto(`${APP_URL}/login?returnTo=/profile`);
    await llngSignIn(page, 'carol', 'carolpw');
    const callback = page.waitForResponse((res) => res.url().startsWith(`${APP_URL}/callback?`));
    await llngConsent(page, 'refuse');
    const res = await callback;
    expect(new URL(res.url()).searchParams.get('error')).toBe('consent_required');
    expect(res.status()).toBe(401);
    expect(await page.textContent('body')).toContain('ERR_OIDC_ACCESS_DENIED');
    expect((await me(context)).status).toBe(401);
    // a refusal is not an error of the app's
    expect(app().output().slice(logged)).not.toMatch(/\[error\]|Error: /);
  }));
});

describe('LemonLDAP::NG 2.16, JWT access tokens (LLNG_AT_JWT=1), express example app', () => {
  const { inBrowser } = setUp('express', { jwtAccessTokens: true, accessTokenTtl: TTL });

  it('the API page calls /api with the JWT access token, verified locally', () => inBrowser(async ({ page }) => {
    await logIn(page, 'alice', 'wonderland', '/tokens');
    expect(await page.locator('#access-opaque').count()).toBe(0);
    await page.goto(`${APP_URL}/api`);
    expect(await page.textContent('#api-status')).toBe('200');
    expect(JSON.parse((await page.textContent('#api-body')) ?? '{}')).toMatchObject({ requestedBy: 'alice', via: 'Bearer token' });
  }));
});

describe.each(ADAPTERS)('LemonLDAP::NG 2.16, its default HS512 ID tokens, %s example app', (adapter) => {
  const { app, inBrowser } = setUp(adapter, { idTokenAlg: 'HS512' });

  it('refuses the login with 502 ERR_OIDC_INVALID_ID_TOKEN; the log names HS512 and idTokenSigningAlg', () => inBrowser(async ({ page, context }) => {
    await page.goto(`${APP_URL}/login?returnTo=/profile`);
    await llngSignIn(page, 'alice', 'wonderland');
    const callback = page.waitForResponse((res) => res.url().startsWith(`${APP_URL}/callback?`));
    await llngConsent(page, 'accept');
    expect((await callback).status()).toBe(502);
    expect(await page.textContent('body')).toContain('ERR_OIDC_INVALID_ID_TOKEN');
    expect(await page.textContent('body')).not.toContain('HS512');
    expect((await me(context)).status).toBe(401);
    await expect.poll(() => app().output()).toMatch(/signed the ID token with HS512, but the oidc\(\) option idTokenSigningAlg is RS256/);
  }));
});
