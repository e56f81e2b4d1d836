/**
 * The example app, unchanged and configured through the environment only, against Glewlwyd 2.7 (Debian's
 * package; no code shared with oidc-provider), in real Chromium through Glewlwyd's own JavaScript login
 * app. Glewlwyd has back-channel logout (LemonLDAP::NG 2.16 does not), but its logout tokens (draft 06) have
 * no "exp", so we refuse them; and no consent refusal: consent is granted in advance by its setup, and
 * without it the scope silently drops to openid.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ADAPTERS } from './example-app.js';
import { GLEWLWYD_APP_URL as APP_URL, startGlewlwyd } from './ops.js';
import type { Op } from './ops.js';
import { useOpAndApp } from './setup.js';
import { appPages, claimRow, glewlwydConfirmLogout, glewlwydContinue, glewlwydSignIn } from './pages.js';

const { expectLoggedOutHome, logOut, me, visit } = appPages(APP_URL);

describe.each(ADAPTERS)('Glewlwyd 2.7, %s example app', (adapter) => {
  const running = useOpAndApp(adapter, startGlewlwyd);
  const op = (): Op => running.op();
  const inBrowser = running.inBrowser;

  const origin = (): string => new URL(op().issuer).origin;

  async function logIn(page: Page, path = '/profile'): Promise<void> {
    await page.goto(`${APP_URL}/login?returnTo=${path}`);
    expect(page.url().startsWith(`${origin()}/login.html?`)).toBe(true);
    await glewlwydSignIn(page, 'alice', 'alicepassword');
    await page.waitForURL(`${APP_URL}${path}`);
  }

  /** Glewlwyd's session id for this browser (its GLEWLWYD2_OIDC_SID cookie = the ID token's sid). */
  async function glewlwydSid(context: BrowserContext): Promise<string> {
    const cookie = (await context.cookies(origin())).find((c) => c.name === 'GLEWLWYD2_OIDC_SID');
    if (!cookie) throw new Error('no GLEWLWYD2_OIDC_SID cookie');
    return cookie.value;
  }

  it('logs alice in through the login app: claims from the ID token; a 403 on the admin page (no roles at Glewlwyd)', () => inBrowser(async ({ page, context }) => {
    await logIn(page);
    const { status, user } = await me(context);
    expect(status).toBe(200);
    expect(user).toMatchObject({ iss: op().issuer, name: 'Alice Example', email: 'alice@example.test' });
    expect(user?.sub).toMatch(/^[A-Za-z0-9]{16,}$/);
    if (adapter === 'express') {
      await page.goto(`${APP_URL}/profile`);
      expect(await claimRow(page, 'sid').textContent()).toContain(await glewlwydSid(context));
    }
    const admin = await visit(page, '/admin');
    expect(admin.status).toBe(403);
  }));

  if (adapter === 'express') {
    it('"Refresh now" gets a new access token (Glewlwyd keeps the refresh token); the API refuses its JWT access token (aud = scope string)', () => inBrowser(async ({ page }) => {
      await logIn(page, '/tokens');
      const access = await page.textContent('#access-fingerprint');
      const refresh = await page.textContent('#refresh-fingerprint');
      await page.click('#refresh');
      await page.waitForURL(`${APP_URL}/tokens?refreshed=1`);
      expect(await page.textContent('#access-fingerprint')).not.toBe(access);
      expect(await page.textContent('#refresh-fingerprint')).toBe(refresh);
      // Glewlwyd's access token is a JWT whose aud is the scope string, not a resource: not for this API
      expect(await page.locator('pre', { hasText: '"aud": "openid profile email"' }).count()).toBe(1);
      await page.goto(`${APP_URL}/api`);
      expect(await page.textContent('#api-status')).toBe('401');
      expect(JSON.parse((await page.textContent('#api-body')) ?? '{}')).toEqual({ error: 'ERR_OIDC_INVALID_TOKEN' });
    }));
  }

  it('local logout ends the app session only: the next login needs no password', () => inBrowser(async ({ page, context }) => {
    await logIn(page);
    await logOut(page, 'local');
    await expectLoggedOutHome(page, context);
    await page.goto(`${APP_URL}/login?returnTo=/profile`);
    await glewlwydContinue(page);
    await page.waitForURL(`${APP_URL}/profile`);
    expect((await me(context)).user?.name).toBe('Alice Example');
  }));

  it('RP-initiated logout ends the Glewlwyd session too, after its "End session" page', () => inBrowser(async ({ page, context }) => {
    await logIn(page);
    await logOut(page, 'idp');
    await glewlwydConfirmLogout(page);
    await expectLoggedOutHome(page, context);
    await page.goto(`${APP_URL}/login?returnTo=/profile`);
    await page.locator('#passwordForm').waitFor();
  }));

  // Glewlwyd 2.7 implements BCL draft 06: its logout token has no "exp", which BCL 1.0 (errata 1) requires
  // and we require since issue 12 (defect 4). Delivery is Glewlwyd's to retry or drop; the user's way out
  // is a local or RP-initiated logout.
  it('back-channel logout: Glewlwyd\'s logout token (no "exp") is refused with a 400, the app session stays, local logout still works', () => inBrowser(async ({ page, context }) => {
    await logIn(page);
    const opLog = op().log;
    if (!opLog) throw new Error('startGlewlwyd gave no log file');
    const logged = running.app().output().length;
    const opLogged = (await readFile(opLog)).length;
    const sid = await glewlwydSid(context);
    // what Glewlwyd's own login app does on "Logout": revoke the session, which POSTs a logout_token to the app
    const revoked = await context.request.delete(`${op().issuer}/session/${sid}`);
    expect(revoked.status()).toBe(200);
    // Glewlwyd posts from a thread of its own: wait until both sides have recorded the refusal and its reason
    // (the Express app logs JSON, the Koa app through console)
    await expect.poll(() => running.app().output().slice(logged), { timeout: 10_000 })
      .toMatch(/oidc-session: back-channel logout rejected \{\s*["']?code["']?:\s*["']ERR_OIDC_INVALID_LOGOUT_TOKEN["'],\s*["']?reason["']?:\s*["']The logout token has no \\?"exp\\?"/);
    await expect.poll(async () => (await readFile(opLog)).subarray(opLogged).toString('utf8'), { timeout: 10_000 })
      .toMatch(/Error backchannel_logout response for client rptest, response status 400/);
    const output = running.app().output().slice(logged);
    expect(output).not.toMatch(/oidc-session: back-channel logout \{/);
    expect(output).not.toMatch(/\[error\]|Error: /);
    expect((await me(context)).user?.name).toBe('Alice Example');
    await logOut(page, 'local');
    await expectLoggedOutHome(page, context);
  }));
});
