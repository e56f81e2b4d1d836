/**
 * The test browser's requests as Chromium sends them, for supertest (`request(app)` or an agent).
 * A navigation (typed URL, link, redirect, form submit) carries `Sec-Fetch-Mode: navigate`,
 * `Sec-Fetch-Dest: document`, `Sec-Fetch-User` and an HTML-first `Accept`; a script's fetch carries
 * `Sec-Fetch-Mode: cors` and `Accept: *\/*`. Node's own fetch cannot model a navigation: undici replaces
 * `Sec-Fetch-Mode` with `cors` whatever the caller sets (see browser-navigation.test.ts).
 */
import type { Test } from 'supertest';
import { RP_BASE_URL } from './rp-common.js';

/** Chromium 12x's Accept for a document. */
export const NAVIGATION_ACCEPT =
  'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7';

/** `none`: typed in the address bar or a bookmark; `same-origin`: a link or form of the app itself. */
export type FetchSite = 'none' | 'same-origin' | 'same-site' | 'cross-site';

export interface NavigationOptions {
  site?: FetchSite;
  /** A click (true, the default) or a redirect / script-started navigation (no Sec-Fetch-User). */
  userActivated?: boolean;
}

function navigationHeaders(options: NavigationOptions): Record<string, string> {
  return {
    Accept: NAVIGATION_ACCEPT,
    'Upgrade-Insecure-Requests': '1',
    'Sec-Fetch-Site': options.site ?? 'same-origin',
    'Sec-Fetch-Mode': 'navigate',
    'Sec-Fetch-Dest': 'document',
    ...(options.userActivated === false ? {} : { 'Sec-Fetch-User': '?1' }),
  };
}

/** A top-level GET navigation: `navigate(agent.get('/profile'))`. */
export function navigate(req: Test, options: NavigationOptions = {}): Test {
  return req.set(navigationHeaders(options));
}

/**
 * An HTML form submitted by the user (`<form method="post">`): a navigation with `Origin` and a
 * urlencoded body. `origin` defaults to the test app's own (a same-origin form).
 */
export function submitForm(req: Test, fields: Record<string, string> = {}, options: NavigationOptions & { origin?: string } = {}): Test {
  const origin = options.origin ?? new URL(RP_BASE_URL).origin;
  return navigate(req, options).set('Origin', origin).type('form').send(new URLSearchParams(fields).toString());
}

/** A script's `fetch()` of JSON from the page (same origin): never a navigation. */
export function scriptFetch(req: Test, site: FetchSite = 'same-origin'): Test {
  return req.set({ Accept: '*/*', 'Sec-Fetch-Site': site, 'Sec-Fetch-Mode': 'cors', 'Sec-Fetch-Dest': 'empty' });
}
