/**
 * A tiny scripted "browser" that walks the test IdP's pages over HTTP: follows
 * redirects within the IdP, fills in the login form, confirms consent/logout and
 * stops as soon as the IdP sends the browser anywhere else (the RP).
 */
import type { CookieJar } from './cookie-jar.js';
import type { IdpReturn } from './types.js';

/** Thrown by `loginAs()` when an IdP page is not what a login expects (wrong password, an error page...). */
export class TestIdpError extends Error {
  /** HTTP status of the page that caused the error */
  readonly status: number;
  /** URL of that page */
  readonly url: string;
  /** raw HTML of that page */
  readonly page: string;

  constructor(message: string, status: number, url: string, page: string) {
    super(message);
    this.name = 'TestIdpError';
    this.status = status;
    this.url = url;
    this.page = page;
  }
}

interface ParsedForm {
  id: string | undefined;
  method: string;
  action: string;
  inputs: Array<[string, string]>;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

export function decodeEntities(input: string): string {
  return input.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#x') || ref.startsWith('#X')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

function parseAttributes(source: string): Map<string, string> {
  const attributes = new Map<string, string>();
  const re = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?/g;
  for (const m of source.matchAll(re)) {
    const name = m[1];
    if (!name) continue;
    attributes.set(name.toLowerCase(), decodeEntities(m[2] ?? m[3] ?? m[4] ?? ''));
  }
  return attributes;
}

export function parseForms(html: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const attributes = parseAttributes(m[1] ?? '');
    const inputs: Array<[string, string]> = [];
    for (const input of (m[2] ?? '').matchAll(/<input\b([^>]*)>/gi)) {
      const a = parseAttributes(input[1] ?? '');
      const name = a.get('name');
      const type = (a.get('type') ?? 'text').toLowerCase();
      if (!name || type === 'submit' || type === 'button' || type === 'image') continue;
      if ((type === 'checkbox' || type === 'radio') && !a.has('checked')) continue;
      inputs.push([name, a.get('value') ?? '']);
    }
    forms.push({
      id: attributes.get('id'),
      method: (attributes.get('method') ?? 'get').toLowerCase(),
      action: attributes.get('action') ?? '',
      inputs,
    });
  }
  return forms;
}

/** Visible text of an HTML fragment, whitespace collapsed. */
export function htmlText(html: string): string {
  return decodeEntities(
    html
      .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]+>/g, ' '),
  ).replace(/\s+/g, ' ').trim();
}

function pageError(html: string): string {
  const alert = /<[^>]+id="login-error"[^>]*>([\s\S]*?)<\//i.exec(html);
  if (alert?.[1]) return htmlText(alert[1]);
  const main = /<main\b[^>]*>([\s\S]*?)<\/main>/i.exec(html);
  return htmlText(main?.[1] ?? html).slice(0, 500);
}

export interface DriveOptions {
  /** the issuer URL: everything on its origin under its path is "the IdP" */
  issuer: string;
  mode: 'login' | 'logout';
  credentials?: { username: string; password: string };
  jar: CookieJar;
  maxSteps?: number;
}

export function isIdpUrl(url: URL, issuer: URL): boolean {
  if (url.origin !== issuer.origin) return false;
  const base = issuer.pathname.replace(/\/+$/, '');
  return base === '' || url.pathname === base || url.pathname.startsWith(`${base}/`);
}

export async function drive(start: string | URL, options: DriveOptions): Promise<IdpReturn> {
  const issuer = new URL(options.issuer);
  const { jar } = options;
  let url = new URL(start);
  let method: 'GET' | 'POST' = 'GET';
  let body: URLSearchParams | undefined;
  let loginSubmitted = false;
  let consentSubmitted = false;
  let logoutSubmitted = false;

  if (!isIdpUrl(url, issuer)) {
    throw new TypeError(`${url.href} is not a URL of the test IdP (${issuer.href})`);
  }

  for (let step = 0; step < (options.maxSteps ?? 20); step += 1) {
    const headers = new Headers({ accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    const cookie = jar.header(url);
    if (cookie) headers.set('cookie', cookie);
    if (body) headers.set('content-type', 'application/x-www-form-urlencoded');
    const response = await fetch(url, { method, headers, redirect: 'manual', ...(body ? { body: body.toString() } : {}) });
    jar.capture(url, response);

    if (response.status >= 300 && response.status < 400) {
      await response.arrayBuffer();
      const location = response.headers.get('location');
      if (!location) throw new TestIdpError(`redirect without Location from ${url.href}`, response.status, url.href, '');
      const next = new URL(location, url);
      if (!isIdpUrl(next, issuer)) return { method: 'GET', url: next.href };
      url = next;
      method = 'GET';
      body = undefined;
      continue;
    }

    const html = await response.text();
    const forms = parseForms(html);
    const current = url;
    const resolve = (action: string) => new URL(action || current.href, current);
    const fail = (message: string): never => {
      throw new TestIdpError(message, response.status, current.href, html);
    };

    const loginForm = forms.find((f) => f.id === 'testidp-login');
    if (loginForm) {
      if (!options.credentials) fail('the IdP asks for a login but no credentials were given');
      if (loginSubmitted) fail(`login failed: ${pageError(html)}`);
      loginSubmitted = true;
      body = new URLSearchParams(loginForm.inputs);
      body.set('username', options.credentials?.username ?? '');
      body.set('password', options.credentials?.password ?? '');
      url = resolve(loginForm.action);
      method = 'POST';
      continue;
    }

    const consentForm = forms.find((f) => f.id === 'testidp-consent');
    if (consentForm) {
      if (consentSubmitted) fail('consent was not accepted');
      consentSubmitted = true;
      body = new URLSearchParams(consentForm.inputs);
      url = resolve(consentForm.action);
      method = 'POST';
      continue;
    }

    const logoutForm = forms.find((f) => f.id === 'op.logoutForm');
    if (logoutForm) {
      if (logoutSubmitted) fail('logout was not accepted');
      logoutSubmitted = true;
      body = new URLSearchParams(logoutForm.inputs);
      body.set('logout', 'yes');
      url = resolve(logoutForm.action);
      method = 'POST';
      continue;
    }

    // oidc-provider's auto-submitting form (response_mode=form_post, or end_session without a session)
    const autoForm = forms.find((f) => f.id === undefined && f.method === 'post');
    if (autoForm) {
      const target = resolve(autoForm.action);
      const fields = new URLSearchParams(autoForm.inputs);
      if (!isIdpUrl(target, issuer)) return { method: 'POST', url: target.href, body: fields };
      url = target;
      body = fields;
      method = 'POST';
      continue;
    }

    if (response.status >= 400 || /id="testidp-error-page"/.test(html)) {
      fail(`the IdP responded ${response.status} at ${current.pathname}: ${pageError(html)}`);
    }
    if (options.mode === 'logout') return { method: 'GET', url: current.href };
    fail(`unexpected IdP page at ${current.href}: ${pageError(html)}`);
  }
  throw new TestIdpError(`too many steps driving the IdP from ${new URL(start).href}`, 0, url.href, '');
}
