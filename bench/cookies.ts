/** express-session cookie values and ids, computed the way express-session (cookie-signature) does. */
import { createHmac } from 'node:crypto';

export function signedSessionCookie(name: string, id: string, secret: string): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `${name}=${encodeURIComponent(`s:${id}.${mac}`)}`;
}

/** The session id inside a `sid=s%3A<id>.<mac>` Cookie header. */
export function sessionIdFromCookie(cookieHeader: string, name = 'sid'): string {
  const pair = cookieHeader.split(/;\s*/).find((part) => part.startsWith(`${name}=`));
  if (!pair) throw new Error(`no ${name} cookie in ${cookieHeader}`);
  const value = decodeURIComponent(pair.slice(name.length + 1));
  if (!value.startsWith('s:')) throw new Error('unsigned session cookie');
  return value.slice(2, value.lastIndexOf('.'));
}

/** Bytes of the cookies whose name is `name` or `name.N` (express-openid-connect chunks large sessions). */
export function cookieBytes(setCookie: readonly string[], name: string): number {
  let bytes = 0;
  for (const header of setCookie) {
    const pair = header.split(';')[0] ?? '';
    const eq = pair.indexOf('=');
    const cookieName = pair.slice(0, eq);
    if (cookieName === name || cookieName.startsWith(`${name}.`)) bytes += Buffer.byteLength(pair.slice(eq + 1));
  }
  return bytes;
}
