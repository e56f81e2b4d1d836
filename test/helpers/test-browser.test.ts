import type { RequestListener } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { TestBrowser } from './test-browser.js';

/** Sets one cookie per SameSite flavour on /set, answers the Cookie header it received elsewhere. */
const app: RequestListener = (req, res) => {
  if (req.url === '/set') {
    res.setHeader('Set-Cookie', ['plain=1; Path=/', 'lax=1; Path=/; SameSite=Lax', 'strict=1; Path=/; SameSite=Strict', 'none=1; Path=/; SameSite=None; Secure', 'scoped=1; Path=/admin', 'short=1; Path=/; Max-Age=60']);
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ cookie: req.headers.cookie ?? '', mode: req.headers['sec-fetch-mode'], site: req.headers['sec-fetch-site'] }));
};

afterEach(() => {
  vi.useRealTimers();
});

/** Names of the cookies a request carried. */
async function sent(request: Promise<{ body: { cookie: string } }>): Promise<string[]> {
  return (await request).body.cookie.split('; ').filter(Boolean).map((pair) => pair.split('=')[0] as string).sort();
}

describe('TestBrowser keeps cookies as Chromium does', () => {
  it('same-site requests carry every cookie whose Path matches', async () => {
    const browser = new TestBrowser(app);
    await browser.get('/set');
    expect(await sent(browser.get('/'))).toEqual(['lax', 'none', 'plain', 'short', 'strict']);
    expect(await sent(browser.get('/admin/x'))).toEqual(['lax', 'none', 'plain', 'scoped', 'short', 'strict']);
    expect((await browser.get('/')).body).toMatchObject({ mode: 'navigate', site: 'same-origin' });
  });

  it('from another site: Lax and default cookies on a GET navigation, only None on a fetch, never Strict', async () => {
    const browser = new TestBrowser(app);
    await browser.get('/set');
    expect(await sent(browser.get('/', 'cross-site'))).toEqual(['lax', 'none', 'plain', 'short']);
    expect(await sent(browser.fetch('/', 'cross-site'))).toEqual(['none']);
  });

  it('a cross-site form POST carries None cookies, and default ones only in their first two minutes (Lax+POST)', async () => {
    const browser = new TestBrowser(app);
    await browser.get('/set');
    expect(await sent(browser.submit('/', {}, 'cross-site'))).toEqual(['none', 'plain', 'short']);
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 121_000 });
    expect(await sent(browser.submit('/', {}, 'cross-site'))).toEqual(['none']);
    // Max-Age=60 has run out meanwhile.
    expect(browser.cookieNames()).not.toContain('short');
  });
});
