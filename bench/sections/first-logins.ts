/**
 * 3 + 4. The first login of each freshly started RP (discovery and JWKS included) and a second one (what
 * every later login costs at the IdP), then what that second login stored: the session record in the
 * store for ours, the cookie for express-openid-connect.
 */
import type { ServerChild } from '../child.js';
import { cookieBytes, sessionIdFromCookie } from '../cookies.js';
import { login } from '../driver.js';
import type { IdpEndpoint } from '../../lib/testing/index.js';
import type { World } from '../setup.js';

export interface SessionSize {
  name: string;
  /** Bytes the store holds for the session (MemoryStore JSON / Redis value), or EOC's cookie value. */
  storedBytes: number;
  /** Of which oidc-session's own part (`req.session.oidc`). */
  oidcBytes?: number;
  /** Token lengths inside. */
  idTokenBytes?: number;
  accessTokenBytes?: number;
  refreshTokenBytes?: number;
  userinfoBytes?: number;
  /** Bytes of the Cookie header the browser sends on every request afterwards. */
  cookieHeaderBytes: number;
  where: string;
}

export interface FirstLogins {
  cookies: Record<string, string>;
  idpCalls: Array<{ name: string; login: 'first' | 'second'; counters: Partial<Record<IdpEndpoint, number>> }>;
  sizes: SessionSize[];
}

const SHOWN: IdpEndpoint[] = ['discovery', 'jwks', 'authorization', 'token', 'userinfo'];

function pick(counters: Record<IdpEndpoint, number>): Partial<Record<IdpEndpoint, number>> {
  return Object.fromEntries(SHOWN.map((e) => [e, counters[e]]));
}

async function sizeOf(child: ServerChild, cookie: string, setCookie: string[]): Promise<SessionSize> {
  const cookieHeaderBytes = Buffer.byteLength(cookie);
  if (child.spec.kind === 'eoc') {
    return { name: child.spec.name, storedBytes: cookieBytes(setCookie, 'appSession'), cookieHeaderBytes, where: 'appSession cookie (encrypted JWE)' };
  }
  const raw = await child.request<string | null>({ cmd: 'storedSession', id: sessionIdFromCookie(cookie) });
  if (!raw) throw new Error(`${child.spec.name}: the session is not in the store`);
  const parsed = JSON.parse(raw) as { oidc?: { auth?: Record<string, unknown> } };
  const auth = parsed.oidc?.auth ?? {};
  const len = (v: unknown) => (typeof v === 'string' ? Buffer.byteLength(v) : 0);
  return {
    name: child.spec.name,
    storedBytes: Buffer.byteLength(raw),
    oidcBytes: Buffer.byteLength(JSON.stringify(parsed.oidc)),
    idTokenBytes: len(auth.idToken),
    accessTokenBytes: len(auth.accessToken),
    refreshTokenBytes: len(auth.refreshToken),
    userinfoBytes: auth.userinfo === undefined ? 0 : Buffer.byteLength(JSON.stringify(auth.userinfo)),
    cookieHeaderBytes,
    where: child.spec.store === 'redis' ? 'Redis value (connect-redis JSON)' : 'MemoryStore JSON',
  };
}

export async function firstLogins(world: World): Promise<FirstLogins> {
  const children = [world.oursMemory, ...(world.oursRedis ? [world.oursRedis] : []), world.eoc];
  const result: FirstLogins = { cookies: {}, idpCalls: [], sizes: [] };
  for (const child of children) {
    for (const which of ['first', 'second'] as const) {
      world.idp.resetCounters();
      const done = await login(child.baseUrl, world.idp);
      result.idpCalls.push({ name: child.spec.name, login: which, counters: pick(world.idp.counters) });
      if (which === 'second') {
        result.cookies[child.spec.name] = done.cookie;
        result.sizes.push(await sizeOf(child, done.cookie, done.callbackSetCookie));
      }
    }
  }
  return result;
}
