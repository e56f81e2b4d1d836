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
    // The dev IdP keeps email at userinfo only, so the page shows what "ID token + userinfo" means.
    expect(await claims.locator('tr', { hasText: 'alice@example.test' }).locator('td').nth(2).textContent()).toBe('userinfo');
    expect(await claims.locator('tr', { hasText: 'Alice Admin' }).locator('td').nth(2).textContent()).toBe('ID token');
    expect(await page.textContent('#userinfo-note')).toContain('userinfo endpoint only');
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

  it('calls the protected API with the access token, and names the guards', () => inBrowser(async ({ page }) => {
    await page.goto(at('/api'));
    await signIn(page, 'bob');
    await page.waitForURL(at('/api'));
    expect(await page.textContent('#api-status')).toBe('200');
    const guards = await page.textContent('#api-guard');
    expect(guards).toContain('guarded by auth.requireAuth()');
    expect(guards).toContain('auth.requireAuth({ bearer: { audience, introspection } })');
    expect(JSON.parse((await page.textContent('#api-body')) ?? '')).toMatchObject({ requestedBy: 'bob' });
  }));

  it('logs out locally: the IdP session stays, so the next login needs no password', () => inBrowser(async ({ page }) => {
    await page.goto(at('/profile'));
    await signIn(page, 'alice');
    await page.waitForURL(at('/profile'));
    // Next to the logout buttons, the page says what a local logout leaves behind.
    await page.goto(at('/'));
    expect(await page.textContent('#logout-note')).toContain('Your session at the IdP stays');
    await page.click('#logout-local');
    await page.waitForURL(at('/?logged-out=local'));
    expect(await page.textContent('#status')).toBe('You are not logged in.');
    expect(await page.textContent('#logged-out-local')).toContain('signs you straight back in without a password');
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
    // The IdP came back with ?state=...: the address bar is clean again.
    expect(page.url()).toBe(at('/?logged-out=idp'));
    expect(await page.textContent('#logged-out-idp')).toContain('the next login asks for your password');
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

  it('holds at 390 px: nav, the ID token and the Refresh now button stay on screen, nothing scrolls sideways', () => inBrowser(async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(at('/tokens'));
    await signIn(page, 'alice');
    await page.waitForURL(at('/tokens'));
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(390);
    for (const selector of ['header >> text=Profile', 'header >> text=API', '#logout-local', '#logout-idp', '#refresh']) {
      const box = await page.locator(selector).boundingBox();
      expect(box, selector).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0), selector).toBeLessThanOrEqual(390);
      expect(box?.x ?? -1, selector).toBeGreaterThanOrEqual(0);
    }
    // The token <pre>s wrap instead of scrolling inside a box wider than the screen.
    const pres = await page.evaluate(() => [...document.querySelectorAll('pre')].map((pre) => pre.scrollWidth - pre.clientWidth));
    expect(pres.length).toBeGreaterThan(0);
    expect(pres.every((overflow) => overflow <= 0)).toBe(true);
    // The claims table (long nonce, sid, URLs) and the API page fit too.
    for (const path of ['/profile', '/api', '/']) {
      await page.goto(at(path));
      expect(await page.evaluate(() => document.documentElement.scrollWidth), path).toBeLessThanOrEqual(390);
    }
  }));

  it('asks for no /favicon.ico that 404s', () => inBrowser(async ({ page }) => {
    const notFound: string[] = [];
    page.on('response', (response) => {
      if (response.status() === 404) notFound.push(response.url());
    });
    await page.goto(at('/'));
    await page.goto(at('/profile'));
    await signIn(page, 'bob');
    await page.waitForURL(at('/profile'));
    const favicon = await page.request.get(at('/favicon.ico'));
    expect(favicon.status()).toBe(200);
    expect(favicon.headers()['content-type']).toContain('image/svg+xml');
    expect(notFound).toEqual([]);
  }));
});
