import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExampleApp } from '../../example-app/app.js';
import type { ExampleApp } from '../../example-app/app.js';
import { inBrowser, signIn } from './browser.js';

// A newcomer's tour of the example app in a real browser, against its embedded dev IdP.
describe('example app in Chromium', () => {
  let app: ExampleApp;
  let idp: NonNullable<ExampleApp['devIdp']>;
  const at = (path: string) => `${app.url}${path}`;

  beforeAll(async () => {
    app = await startExampleApp({ port: 0 });
    if (!app.devIdp) throw new Error('expected the embedded dev IdP');
    idp = app.devIdp;
  });
  afterAll(() => app?.close());

  it('logs in through the IdP form, lands on the page asked for, and shows the profile', () => inBrowser(async ({ page }) => {
    await page.goto(at('/tokens'));
    expect(page.url().startsWith(idp.issuer)).toBe(true);
    expect(await page.textContent('#demo-users')).toContain('alice / alice (admin), bob / bob (user)');
    await signIn(page, 'alice');
    await page.waitForURL(at('/tokens'));
    // the inline countdown script runs
    await expect.poll(() => page.textContent('#countdown')).toMatch(/^in \d+:\d\d$/);
    await page.click('header >> text=Profile');
    await page.waitForURL(at('/profile'));
    const claims = page.locator('#claims');
    await expect.poll(() => claims.locator('tr', { hasText: 'email' }).first().textContent()).toContain('alice@example.test');
    expect(await claims.locator('tr', { hasText: 'nonce' }).textContent()).toContain('ID token (protocol)');
    expect(await page.textContent('#who')).toBe('Alice Admin');
  }));

  it('completes two logins started in two tabs at once', () => inBrowser(async ({ context, page }) => {
    const second = await context.newPage();
    await page.goto(at('/profile'));
    await second.goto(at('/tokens'));
    await page.locator('#testidp-login-page').waitFor();
    await second.locator('#testidp-login-page').waitFor();
    await signIn(page, 'alice');
    await page.waitForURL(at('/profile'));
    await signIn(second, 'alice');
    await second.waitForURL(at('/tokens'));
    await page.reload();
    expect(page.url()).toBe(at('/profile'));
    expect(await page.textContent('#who')).toBe('Alice Admin');
  }));

  it('refreshes the tokens with the button', () => inBrowser(async ({ page }) => {
    await page.goto(at('/tokens'));
    await signIn(page, 'alice');
    await page.waitForURL(at('/tokens'));
    const before = await page.textContent('#access-fingerprint');
    const refreshBefore = await page.textContent('#refresh-fingerprint');
    idp.resetCounters();
    await page.click('#refresh');
    await page.waitForURL(at('/tokens?refreshed=1'));
    expect(await page.locator('#refreshed').isVisible()).toBe(true);
    expect(idp.counters.token).toBe(1);
    expect(await page.textContent('#access-fingerprint')).not.toBe(before);
    // the dev IdP rotates refresh tokens
    expect(await page.textContent('#refresh-fingerprint')).not.toBe(refreshBefore);
  }));

  it('lets alice into the admin page', () => inBrowser(async ({ page }) => {
    await page.goto(at('/admin'));
    const admin = page.waitForResponse(at('/admin'));
    await signIn(page, 'alice');
    expect((await admin).status()).toBe(200);
    expect(await page.textContent('#admin-welcome')).toContain('you have the admin role');
  }));

  it('shows bob a 403 page on the admin page', () => inBrowser(async ({ page }) => {
    await page.goto(at('/admin'));
    const admin = page.waitForResponse(at('/admin'));
    await signIn(page, 'bob');
    expect((await admin).status()).toBe(403);
    expect(await page.textContent('#forbidden')).toBe('Sorry Bob User, you may not open this page.');
    expect(await page.textContent('#forbidden-reason')).toContain('requires one of the roles admin');
    // logged in all the same: no login loop
    await page.goto(at('/profile'));
    expect(page.url()).toBe(at('/profile'));
  }));

  it('calls the protected API with the access token', () => inBrowser(async ({ page }) => {
    await page.goto(at('/api'));
    await signIn(page, 'bob');
    await page.waitForURL(at('/api'));
    expect(await page.textContent('#api-status')).toBe('200');
    expect(JSON.parse((await page.textContent('#api-body')) ?? '')).toMatchObject({ requestedBy: 'bob' });
  }));

  it('logs out locally: the IdP session stays, so the next login needs no password', () => inBrowser(async ({ page }) => {
    await page.goto(at('/profile'));
    await signIn(page, 'alice');
    await page.waitForURL(at('/profile'));
    await page.click('#logout-local');
    await page.waitForURL(at('/'));
    expect(await page.textContent('#status')).toBe('You are not logged in.');
    await page.goto(at('/profile'));
    expect(page.url()).toBe(at('/profile'));
    expect(await page.textContent('#who')).toBe('Alice Admin');
  }));

  it('logs out at the IdP too: the next login asks for the password again', () => inBrowser(async ({ page }) => {
    await page.goto(at('/profile'));
    await signIn(page, 'alice');
    await page.waitForURL(at('/profile'));
    await page.click('#logout-idp');
    await page.locator('#testidp-logout-page').waitFor();
    await page.click('button[name=logout][value=yes]');
    await page.waitForURL((url) => url.origin === app.url && url.pathname === '/');
    expect(await page.textContent('#status')).toBe('You are not logged in.');
    await page.goto(at('/profile'));
    await page.locator('#testidp-login-page').waitFor();
    expect(page.url().startsWith(idp.issuer)).toBe(true);
  }));

  it('shows no logged-in page when Back is pressed after logout', () => inBrowser(async ({ page }) => {
    await page.goto(at('/profile'));
    await signIn(page, 'alice');
    await page.waitForURL(at('/profile'));
    await page.click('#logout-idp');
    await page.locator('#testidp-logout-page').waitFor();
    await page.click('button[name=logout][value=yes]');
    await page.waitForURL((url) => url.origin === app.url && url.pathname === '/');
    // Back, past the IdP's sign-out step, to the profile page seen before the logout: it must be asked
    // for again (no-store), which means a login, not Alice's claims from the browser cache.
    for (let i = 0; i < 3 && page.url().startsWith(at('/?')); i++) await page.goBack();
    await page.locator('#testidp-login-page').waitFor();
    expect(page.url().startsWith(idp.issuer)).toBe(true);
    expect(await page.locator('#claims').count()).toBe(0);
  }));
});
