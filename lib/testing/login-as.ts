/**
 * loginAs(): log a test client into an app through the real OpenID Connect flow in one call:
 * GET the app's /login, log in at the test IdP, deliver the callback to the app. No mocks, no
 * hand-made session cookies, so the app's protected routes are tested exactly as they run.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CookieJar } from './cookie-jar.js';
import type { TestIdp, TestIdpUser } from './types.js';

/** The part of a supertest agent (`request.agent(app)`) that loginAs uses. */
export interface LoginAgent {
  /** Starts a GET request (supertest `agent.get`). */
  get(url: string): LoginAgentRequest;
  /** Starts a POST request (supertest `agent.post`). */
  post(url: string): LoginAgentRequest;
}
/** A request being built by a LoginAgent; awaiting it sends it. */
export interface LoginAgentRequest extends PromiseLike<{ status: number; headers: Record<string, unknown>; text?: string }> {
  /** Sets a request header. */
  set(field: string, value: string): LoginAgentRequest;
  /** Sends a request body. */
  send(body: string): LoginAgentRequest;
}

/** A Node request listener: an Express app, `koaApp.callback()`, ... */
export type AppHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Who `loginAs()` logs in: a known username, a username and password, or a new user with given claims. */
export type LoginAsUser =
  /** The username of a user the IdP knows (its password is looked up). */
  | string
  | { username: string; password?: string }
  /** A new user with exactly these claims, added to the IdP for this login. `sub` must be new; default random. */
  | { claims: Record<string, unknown>; sub?: string };

/** Options of `loginAs()`. */
export interface LoginAsOptions {
  /** The app's login route. Default `/login`. */
  loginPath?: string;
  /** Where the app sends the browser after login (`?returnTo=`). */
  returnTo?: string;
  /** The browser's cookies at the IdP; pass the same jar again to test SSO or IdP logout. Default: a new jar. */
  idpJar?: CookieJar;
}

/** What `loginAs()` resolves to once the app has the session. */
export interface LoginAsResult {
  /** The user who logged in, as the IdP knows it. */
  user: TestIdpUser;
  /** Where the app redirected after the callback. */
  location: string;
  /** A `Cookie` header value with the app's cookies after login (the new session cookie among them). */
  cookie: string;
  /** The IdP's cookies (its login session). */
  idpJar: CookieJar;
}

interface Reply {
  status: number;
  location: string | undefined;
  text: string;
}
type Send = (method: 'GET' | 'POST', path: string, form?: string) => Promise<Reply>;

// Cookies the app sets are kept under this key only; nothing is ever sent to it.
const APP_ORIGIN = 'http://127.0.0.1';

function fail(message: string): never {
  throw new Error(`loginAs: ${message}`);
}

function resolveUser(idp: TestIdp, who: LoginAsUser): TestIdpUser {
  if (typeof who === 'object' && who !== null && 'claims' in who) {
    const sub = who.sub ?? `user-${randomUUID().slice(0, 8)}`;
    return idp.addUser({ username: sub, password: randomUUID(), sub, claims: who.claims });
  }
  const username = typeof who === 'string' ? who : who.username;
  const password = typeof who === 'string' ? undefined : who.password;
  const known = idp.users.find((u) => u.username === username);
  if (password !== undefined) return { ...known, username, password };
  if (!known) {
    fail(`the test IdP has no user "${username}" (it knows ${idp.users.map((u) => u.username).join(', ')}); pass { claims } to create one`);
  }
  return known;
}

function agentSender(agent: LoginAgent, jar: CookieJar): Send {
  return async (method, path, form) => {
    let request = method === 'GET' ? agent.get(path) : agent.post(path).set('Content-Type', 'application/x-www-form-urlencoded');
    request = request.set('Accept', 'text/html');
    if (form !== undefined) request = request.send(form);
    const res = await request;
    const setCookie = res.headers['set-cookie'];
    if (Array.isArray(setCookie)) jar.set(new URL(path, APP_ORIGIN), setCookie.map(String));
    const location = res.headers.location;
    return { status: res.status, location: typeof location === 'string' ? location : undefined, text: res.text ?? '' };
  };
}

function fetchSender(base: URL, jar: CookieJar): Send {
  return async (method, path, form) => {
    const url = new URL(path, base);
    const headers = new Headers({ accept: 'text/html' });
    const cookie = jar.header(url);
    if (cookie) headers.set('cookie', cookie);
    if (form !== undefined) headers.set('content-type', 'application/x-www-form-urlencoded');
    const res = await fetch(url, { method, headers, redirect: 'manual', ...(form !== undefined ? { body: form } : {}) });
    jar.capture(url, res);
    return { status: res.status, location: res.headers.get('location') ?? undefined, text: await res.text() };
  };
}

async function flow(send: Send, jarOrigin: string, appJar: CookieJar, idp: TestIdp, user: TestIdpUser, options: LoginAsOptions): Promise<LoginAsResult> {
  const idpJar = options.idpJar ?? new CookieJar();
  const loginPath = options.loginPath ?? '/login';
  const start = options.returnTo === undefined ? loginPath : `${loginPath}${loginPath.includes('?') ? '&' : '?'}returnTo=${encodeURIComponent(options.returnTo)}`;
  const login = await send('GET', start);
  if (!login.location?.startsWith(idp.issuer)) {
    const answer = login.location ? `${login.status} -> ${login.location}` : String(login.status);
    fail(`GET ${start} answered ${answer}, not a redirect to the test IdP ${idp.issuer}`);
  }
  const back = await idp.login(login.location, { username: user.username, password: user.password }, idpJar);
  const target = new URL(back.url);
  const path = target.pathname + target.search;
  const callback = back.method === 'POST' ? await send('POST', path, back.body.toString()) : await send('GET', path);
  if (callback.status < 300 || callback.status >= 400 || !callback.location) {
    fail(`the app answered ${callback.status} to the callback ${target.pathname}: ${callback.text.slice(0, 300)}`);
  }
  return { user, location: callback.location, cookie: appJar.header(new URL(callback.location, jarOrigin)), idpJar };
}

/**
 * Log in through the real flow against a `createTestIdp()` instance.
 *
 * - `target` is a supertest agent (`request.agent(app)`; it keeps the session cookie), a Node request
 *   listener (an Express app, `koaApp.callback()`), or the base URL of a running app. Use the returned
 *   `cookie` with the last two.
 * - The app must be configured with the IdP's issuer and a client the IdP knows whose redirect_uri points
 *   at the app's callback route (its host and port do not matter: the callback is sent to `target`).
 */
export async function loginAs(target: LoginAgent | AppHandler | string | URL, idp: TestIdp, who: LoginAsUser, options: LoginAsOptions = {}): Promise<LoginAsResult> {
  const user = resolveUser(idp, who);
  const appJar = new CookieJar();
  if (typeof target === 'string' || target instanceof URL) {
    return flow(fetchSender(new URL(target), appJar), new URL(target).origin, appJar, idp, user, options);
  }
  if (typeof target === 'function') {
    const server = createServer(target);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const base = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    try {
      return await flow(fetchSender(base, appJar), base.origin, appJar, idp, user, options);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
  return flow(agentSender(target, appJar), APP_ORIGIN, appJar, idp, user, options);
}
