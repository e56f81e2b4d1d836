/**
 * What a user does on each OP's own pages, and what the test reads back from the example app (the same
 * for the Express app and its Koa twin, whose pages differ: JSON from /api/me, forms by their action).
 */
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Adapter } from './example-app.js';

// ---------------------------------------------------------------- LemonLDAP::NG (server-rendered portal)

/**
 * The /profile table's row of one claim, found by the claim's name cell alone: a row whose value merely
 * contains the name (a random nonce with "sid" in it) is not that row.
 */
export function claimRow(page: Page, claim: string): Locator {
  return page.locator('#claims tr', { has: page.locator('td:first-child code', { hasText: new RegExp(`^${claim}$`) }) });
}

export async function llngSignIn(page: Page, user: string, password: string): Promise<void> {
  await page.locator('#lform').waitFor();
  await page.fill('#userfield', user);
  await page.fill('#passwordfield', password);
  await page.click('#lform button[type=submit]');
}

/** The consent page ("The application ... would like to:"): Accept or Refuse. */
export async function llngConsent(page: Page, answer: 'accept' | 'refuse'): Promise<void> {
  await page.locator('.oidc_consent_message').waitFor();
  await page.click(answer === 'accept' ? '#form button.positive' : '#refuse');
}

/** end_session asks "Do you want to logout?". */
export async function llngConfirmLogout(page: Page): Promise<void> {
  await page.locator('.oidc_logout_message').waitFor();
  await page.click('#form button.positive');
}

// ---------------------------------------------------------------- Glewlwyd (JavaScript login app)

export async function glewlwydSignIn(page: Page, user: string, password: string): Promise<void> {
  await page.locator('#passwordForm').waitFor();
  await page.fill('#username', user);
  await page.fill('#password', password);
  await page.click('#loginbut');
  await glewlwydContinue(page);
}

/** Glewlwyd shows "Continue to client application" after a login, and again for an existing session (its quirk 1). */
export async function glewlwydContinue(page: Page): Promise<void> {
  await page.click('button[title="Continue to client application"]');
}

/** end_session lands on login.html "End session": its Logout button revokes the session (and calls back-channel logout). */
export async function glewlwydConfirmLogout(page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'End session' }).waitFor();
  await page.locator('.card-body button.btn-danger', { hasText: 'Logout' }).click();
}

// ---------------------------------------------------------------- the example app

export interface Me {
  status: number;
  user?: Record<string, unknown>;
  expiresAt?: number;
}

/** What the tests do on the example app listening at `appUrl`. */
export function appPages(appUrl: string) {
  /** GET /api/me as JSON with the browser's cookies (the session), never following a redirect. */
  async function me(context: BrowserContext): Promise<Me> {
    const res = await context.request.get(`${appUrl}/api/me`, { headers: { accept: 'application/json' }, maxRedirects: 0 });
    if (res.status() !== 200) return { status: res.status() };
    const body = (await res.json()) as { user: Record<string, unknown>; expiresAt?: number };
    return { status: 200, user: body.user, ...(body.expiresAt !== undefined ? { expiresAt: body.expiresAt } : {}) };
  }

  return {
    me,

    /** When the session's access token expires (Express: the tokens page; Koa: /api/me). Both are guarded: an expired one is refreshed first. */
    async accessTokenExpiry(adapter: Adapter, page: Page, context: BrowserContext): Promise<number> {
      if (adapter === 'koa') {
        const { expiresAt } = await me(context);
        if (expiresAt === undefined) throw new Error('/api/me has no expiresAt');
        return expiresAt;
      }
      await page.goto(`${appUrl}/tokens`);
      return Number(await page.locator('#countdown').getAttribute('data-expires-at'));
    },

    /** The home page's logout buttons, by role and name (Express: "Log out at the IdP too", Koa: "... of the IdP too"). */
    async logOut(page: Page, where: 'local' | 'idp'): Promise<void> {
      await page.goto(`${appUrl}/`);
      const name = where === 'local' ? /^Log out$/ : /^Log out (at|of) the IdP too$/;
      await page.getByRole('button', { name }).click();
    },

    /** Back on the app (where the OP sent the browser), logged out. */
    async expectLoggedOutHome(page: Page, context: BrowserContext): Promise<void> {
      // the OP may make server-to-server calls first (Glewlwyd: back-channel logout to this app)
      await page.waitForURL((url) => url.origin === appUrl, { timeout: 30_000 });
      expect((await me(context)).status).toBe(401);
      await page.goto(`${appUrl}/`);
      await expect.poll(() => page.textContent('body')).toMatch(/not logged in/);
    },

    /** Status and text of a page as the browser got it. */
    async visit(page: Page, path: string): Promise<{ status: number; text: string }> {
      const res = await page.goto(`${appUrl}${path}`);
      return { status: res?.status() ?? 0, text: (await page.textContent('body')) ?? '' };
    },
  };
}
