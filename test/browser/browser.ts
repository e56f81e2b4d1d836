/**
 * Debian's Chromium (/usr/bin/chromium) driven by playwright-core; never a downloaded browser. Each test
 * gets a fresh profile; when it fails, every open tab is screenshotted into test-results/.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = '/usr/bin/chromium';
export const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const RESULTS = join(import.meta.dirname, '..', '..', 'test-results');

/** Fails (never skips) when Chromium is missing, with the fix in the message. */
export function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`The browser tests need Debian's Chromium at ${CHROMIUM}: run \`apt-get update && apt-get install -y chromium\` (do not download a browser with playwright install).`);
  }
}

export async function screenshots(context: BrowserContext): Promise<void> {
  const name = (expect.getState().currentTestName ?? 'browser-test').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 120);
  await mkdir(RESULTS, { recursive: true });
  const pages = context.pages();
  for (const [i, page] of pages.entries()) {
    const file = join(RESULTS, `${name}${pages.length > 1 ? `-tab${i + 1}` : ''}.png`);
    await page.screenshot({ path: file, fullPage: true }).then(
      () => console.error(`screenshot: ${file} (${page.url()})`),
      () => undefined,
    );
  }
}

export interface Browser {
  context: BrowserContext;
  /** The first tab. */
  page: Page;
}

export async function inBrowser(body: (browser: Browser) => Promise<void>): Promise<void> {
  requireChromium();
  const profile = await mkdtemp(join(tmpdir(), 'oidc-session-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
  context.setDefaultTimeout(10_000);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await body({ context, page });
  } catch (err) {
    await screenshots(context);
    throw err;
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

/** Fill in the dev IdP's login form (the page must show it). */
export async function signIn(page: Page, username: string, password = username): Promise<void> {
  await page.locator('#testidp-login-page').waitFor();
  await page.fill('#username', username);
  await page.fill('#password', password);
  await page.click('#testidp-login button[type=submit]');
}
