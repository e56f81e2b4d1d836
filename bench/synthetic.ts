/**
 * Synthetic sessions for the scale rows: copies of a real stored session (same shape and sizes) with
 * their own id, subject, IdP session id, ID token payload and token strings, written straight into Redis
 * with pipelining. The ID token payload is re-encoded (sub, sid changed) with a random signature: guarded
 * requests only decode it, they never verify it again.
 */
import { randomBytes } from 'node:crypto';
import { signedSessionCookie } from './cookies.js';
import type { OwnerEntry } from './protocol.js';
import type { BenchRedis } from './setup.js';

const BATCH = 2000;
const TTL_SEC = 3600;

function randomLike(value: string): string {
  return randomBytes(Math.ceil((value.length * 3) / 4) + 2).toString('base64url').slice(0, value.length);
}

interface StoredShape {
  oidc: { auth: { sub: string; sid?: string; iss: string; idToken: string; accessToken: string; refreshToken?: string } };
}

export function syntheticSession(template: string, index: number): { id: string; value: string; owner: OwnerEntry } {
  const parsed = JSON.parse(template) as StoredShape;
  const auth = parsed.oidc.auth;
  const id = randomBytes(24).toString('base64url');
  const sub = `user-${String(index).padStart(6, '0')}`;
  const sid = randomLike(auth.sid ?? 'x'.repeat(43));
  const [header, payload, signature] = auth.idToken.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  claims.sub = sub;
  claims.sid = sid;
  auth.idToken = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${randomLike(signature)}`;
  auth.sub = sub;
  auth.sid = sid;
  auth.accessToken = randomLike(auth.accessToken);
  if (auth.refreshToken) auth.refreshToken = randomLike(auth.refreshToken);
  return { id, value: JSON.stringify(parsed), owner: { id, iss: auth.iss, sub, sid } };
}

export interface Seeded {
  owners: OwnerEntry[];
  cookies: string[];
  seconds: number;
}

/** Writes `count` sessions under `keyPrefix` (SET EX, pipelined in batches of 2,000). */
export async function seedSessions(redis: BenchRedis, keyPrefix: string, template: string, count: number, firstIndex: number, secret: string): Promise<Seeded> {
  const start = performance.now();
  const owners: OwnerEntry[] = [];
  const cookies: string[] = [];
  for (let done = 0; done < count; done += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, count - done) }, (_, i) => syntheticSession(template, firstIndex + done + i));
    await Promise.all(batch.map((s) => redis.set(keyPrefix + s.id, s.value, { expiration: { type: 'EX', value: TTL_SEC } })));
    for (const s of batch) {
      owners.push(s.owner);
      cookies.push(signedSessionCookie('sid', s.id, secret));
    }
  }
  return { owners, cookies, seconds: (performance.now() - start) / 1000 };
}

/** `n` distinct items drawn at random (bounded: never more than the list). */
export function sample<T>(items: readonly T[], n: number): T[] {
  const copy = [...items];
  const count = Math.min(n, copy.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(Math.random() * (copy.length - i));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy.slice(0, count);
}
