/** The "browser" of the login benchmarks: RP /login -> embedded IdP login pages -> RP callback, over HTTP. */
import { CookieJar } from '../lib/testing/index.js';
import type { TestIdp } from '../lib/testing/index.js';

export interface LoginResult {
  /** The RP's cookies after the callback (the logged-in session). */
  jar: CookieJar;
  /** The IdP's cookies (its own session, for an IdP-initiated logout later). */
  idpJar: CookieJar;
  /** The Cookie header a browser sends to the RP afterwards. */
  cookie: string;
  /** Set-Cookie headers of the callback response. */
  callbackSetCookie: string[];
}

/** Under valgrind (bench/diagnose.ts, DIAG_INSTRUCTIONS=1) the RP answers about 50 times slower. */
const RP_TIMEOUT_MS = process.env.DIAG_INSTRUCTIONS === '1' ? 900_000 : 10_000;

async function rpGet(url: string, jar: CookieJar): Promise<Response> {
  const cookie = jar.header(url);
  const response = await fetch(url, {
    redirect: 'manual',
    headers: { accept: 'text/html', ...(cookie ? { cookie } : {}) },
    signal: AbortSignal.timeout(RP_TIMEOUT_MS),
  });
  jar.capture(url, response);
  await response.arrayBuffer();
  return response;
}

/** One complete login as `user`; throws unless the RP ends it with a redirect and a session cookie. */
export async function login(rpBaseUrl: string, idp: TestIdp, user = 'alice'): Promise<LoginResult> {
  const jar = new CookieJar();
  const idpJar = new CookieJar();
  const start = await rpGet(`${rpBaseUrl}/login`, jar);
  const location = start.headers.get('location');
  if (start.status !== 302 || !location) throw new Error(`${rpBaseUrl}/login answered ${start.status}, not a redirect to the IdP`);
  const back = await idp.login(location, { username: user, password: user }, idpJar);
  if (back.method !== 'GET') throw new Error('the IdP answered with form_post; the bench expects response_mode=query');
  const done = await rpGet(back.url, jar);
  if (done.status !== 302) throw new Error(`the callback answered ${done.status}, not a redirect`);
  const cookie = jar.header(`${rpBaseUrl}/guarded`);
  if (!cookie) throw new Error('the callback set no session cookie');
  return { jar, idpJar, cookie, callbackSetCookie: done.headers.getSetCookie() };
}

export interface LoginRun {
  logins: number;
  seconds: number;
}

/**
 * Logins back to back from `concurrency` drivers for `seconds` (and at most `maxLogins`); logins still
 * running at the deadline are finished and counted, and the clock stops when the last one ends.
 */
export async function loginLoop(rpBaseUrl: string, idp: TestIdp, seconds: number, concurrency: number, maxLogins = 100_000): Promise<LoginRun> {
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let started = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline && started < maxLogins) {
      started += 1;
      await login(rpBaseUrl, idp, started % 2 ? 'alice' : 'bob');
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { logins: done, seconds: (performance.now() - start) / 1000 };
}
