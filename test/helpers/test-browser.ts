/**
 * A test browser for one app origin that keeps its cookies as Chromium does: Path, Expires / Max-Age,
 * and SameSite. A request started by another site (`from: 'cross-site'`: a link on another page, the
 * IdP redirecting back, a form posted from elsewhere) carries only the cookies SameSite lets through:
 * Strict never; Lax (and no SameSite, which Chromium treats as Lax) on top-level GET navigations only,
 * plus on a top-level POST within two minutes of the cookie being set when it named no SameSite
 * (Chromium's "Lax+POST"); None always. Requests go through supertest with navigate() headers, so the
 * app sees a real navigation (see browser-navigation.ts).
 */
import type { RequestListener } from 'node:http';
import request from 'supertest';
import type { Response, Test } from 'supertest';
import { navigate, scriptFetch } from './browser-navigation.js';
import type { FetchSite } from './browser-navigation.js';
import { RP_BASE_URL } from './rp-common.js';

interface Cookie {
  value: string;
  path: string;
  /** Epoch ms; undefined: until the browser closes. */
  expires: number | undefined;
  sameSite: 'strict' | 'lax' | 'none' | undefined;
  setAt: number;
}

type Kind = 'navigate-get' | 'navigate-post' | 'fetch';
const LAX_POST_WINDOW_MS = 120_000;

export class TestBrowser {
  private readonly cookies = new Map<string, Cookie>();
  private readonly app: RequestListener;
  readonly origin: string;

  constructor(app: RequestListener, origin = RP_BASE_URL) {
    this.app = app;
    this.origin = new URL(origin).origin;
  }

  /** A top-level GET navigation: typed (`none`), a link of the app (`same-origin`) or of another site. */
  get(path: string, from: FetchSite = 'same-origin'): Promise<Response> {
    return this.send(navigate(request(this.app).get(path), { site: from }), path, from, 'navigate-get');
  }

  /** A form posted to the app, from one of its pages or from another site. */
  submit(path: string, fields: Record<string, string> = {}, from: FetchSite = 'same-origin'): Promise<Response> {
    const origin = from === 'cross-site' ? 'https://elsewhere.example' : this.origin;
    const req = navigate(request(this.app).post(path), { site: from }).set('Origin', origin).type('form').send(new URLSearchParams(fields).toString());
    return this.send(req, path, from, 'navigate-post');
  }

  /** A script's fetch() from a page of `from`. */
  fetch(path: string, from: FetchSite = 'same-origin'): Promise<Response> {
    return this.send(scriptFetch(request(this.app).get(path), from), path, from, 'fetch');
  }

  /** Names of the cookies the browser holds now. */
  cookieNames(): string[] {
    this.expire();
    return [...this.cookies.keys()];
  }

  private async send(req: Test, path: string, from: FetchSite, kind: Kind): Promise<Response> {
    const header = this.cookieHeader(path, from, kind);
    if (header) req.set('Cookie', header);
    const res = await req;
    this.store(res.headers['set-cookie'] as unknown as string[] | undefined);
    return res;
  }

  private expire(): void {
    const now = Date.now();
    for (const [name, cookie] of this.cookies) if (cookie.expires !== undefined && cookie.expires <= now) this.cookies.delete(name);
  }

  private cookieHeader(path: string, from: FetchSite, kind: Kind): string {
    this.expire();
    const pathname = new URL(path, this.origin).pathname;
    const now = Date.now();
    const crossSite = from === 'cross-site';
    return [...this.cookies]
      .filter(([, c]) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : c.path + '/'))
      .filter(([, c]) => {
        if (!crossSite || c.sameSite === 'none') return true;
        if (c.sameSite === 'strict') return false;
        if (kind === 'navigate-get') return true;
        return kind === 'navigate-post' && c.sameSite === undefined && now - c.setAt < LAX_POST_WINDOW_MS;
      })
      .map(([name, c]) => `${name}=${c.value}`)
      .join('; ');
  }

  private store(setCookie: string[] | undefined): void {
    const now = Date.now();
    for (const line of setCookie ?? []) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const cookie: Cookie = { value: pair.slice(eq + 1), path: '/', expires: undefined, sameSite: undefined, setAt: now };
      let maxAge: number | undefined;
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=');
        const k = key.toLowerCase();
        if (k === 'path' && value.startsWith('/')) cookie.path = value;
        else if (k === 'expires') cookie.expires = Date.parse(value);
        else if (k === 'max-age') maxAge = Number(value);
        else if (k === 'samesite') cookie.sameSite = value.toLowerCase() as Cookie['sameSite'];
      }
      if (maxAge !== undefined) cookie.expires = now + maxAge * 1000;
      if (cookie.expires !== undefined && cookie.expires <= now) this.cookies.delete(name);
      else this.cookies.set(name, cookie);
    }
  }
}
