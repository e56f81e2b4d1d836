/**
 * 6. Scale with Redis: guarded throughput with 1k and then `scaleSessions` sessions in Redis (requests
 * spread over 1,000 of them, and over 10,000 at the large point, past the ClaimsCache's 5,000 tokens),
 * and back-channel logout time with an empty index vs every seeded session indexed.
 */
import type { ServerChild } from '../child.js';
import { sessionIdFromCookie } from '../cookies.js';
import { login } from '../driver.js';
import { compare } from '../load.js';
import type { TargetResult } from '../load.js';
import type { OwnerEntry } from '../protocol.js';
import type { World } from '../setup.js';
import { median, percentile } from '../stats.js';
import { sample, seedSessions } from '../synthetic.js';

export interface LogoutPoint {
  indexed: number;
  /** Server-side time of POST /backchannel-logout (verify, jti lock, index lookup, store destroy), ms. */
  medianMs: number;
  maxMs: number;
  /** IdP-initiated logout as the browser sees it (IdP pages + back-channel delivery), ms. */
  endToEndMedianMs: number;
  statuses: number[];
  sessionsGone: boolean;
}

export interface ScaleResult {
  rows: Array<TargetResult & { sessions: number; distinct: number }>;
  seedSeconds: number;
  redisBytesPerSession: number;
  logout: LogoutPoint[];
  index: string;
}

const INDEX_CHUNK = 10_000;

async function indexOwners(child: ServerChild, owners: OwnerEntry[]): Promise<void> {
  for (let i = 0; i < owners.length; i += INDEX_CHUNK) await child.request({ cmd: 'indexSessions', entries: owners.slice(i, i + INDEX_CHUNK) });
}

async function usedMemory(world: World): Promise<number> {
  const info = (await world.redis?.info('memory')) ?? '';
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0);
}

/** `count` back-channel logouts of fresh logins, each started at the IdP (its end-session page). */
async function logoutPoint(world: World, child: ServerChild, indexed: number): Promise<LogoutPoint> {
  const endToEnd: number[] = [];
  const statuses: number[] = [];
  const serverMs: number[] = [];
  let sessionsGone = true;
  await child.request({ cmd: 'logoutTimings' });
  for (let i = 0; i < world.settings.logouts; i++) {
    const done = await login(child.baseUrl, world.idp, i % 2 ? 'bob' : 'alice');
    const id = sessionIdFromCookie(done.cookie);
    const start = performance.now();
    await world.idp.logout(world.endSessionEndpoint, done.idpJar);
    endToEnd.push(performance.now() - start);
    const timings = await child.request<Array<{ ms: number; status: number }>>({ cmd: 'logoutTimings' });
    for (const t of timings) {
      serverMs.push(t.ms);
      statuses.push(t.status);
    }
    if ((await child.request<string | null>({ cmd: 'storedSession', id })) !== null) sessionsGone = false;
  }
  const point = { indexed, medianMs: median(serverMs), maxMs: percentile(serverMs, 100), endToEndMedianMs: median(endToEnd), statuses, sessionsGone };
  world.log(`  back-channel logout with ${indexed} indexed: ${point.medianMs.toFixed(2)} ms server-side (statuses ${statuses.join(',')}, sessions gone: ${sessionsGone})`);
  return point;
}

export async function scale(world: World, realCookie: string): Promise<ScaleResult | undefined> {
  const { oursRedis: child, redis, settings } = world;
  if (!child || !redis) return undefined;
  const keyPrefix = `${world.redisPrefix}sess:`;
  const template = await child.request<string | null>({ cmd: 'storedSession', id: sessionIdFromCookie(realCookie) });
  if (!template) throw new Error('scale: the real session is missing from Redis');
  // Both rows from the throughput lanes (same history, one route each); the main process keeps the logouts.
  const floor = world.lanes.get('ours-redis:session-only#0') ?? child;
  const guarded = world.lanes.get('ours-redis:guarded#0') ?? child;
  const probes = { idp: world.idp, ...(world.redisCpu ? { redisCpu: world.redisCpu } : {}) };
  const compareSettings = { ...settings, rounds: settings.scaleRounds };
  const rows: ScaleResult['rows'] = [];
  world.log(`6. scale: back-channel logout with an empty index, then 1k and ${settings.scaleSessions} sessions in Redis`);
  const logout: LogoutPoint[] = [await logoutPoint(world, child, 0)];

  const memBefore = await usedMemory(world);
  const small = await seedSessions(redis, keyPrefix, template, 1000, 0, world.secret);
  await indexOwners(child, small.owners);
  const pool1k = small.cookies;
  for (const row of await compare(
    [
      { name: 'Redis 1k sessions: session-only', child: floor, path: '/session-only', cookies: pool1k },
      { name: 'Redis 1k sessions: ours guarded', child: guarded, path: '/guarded', cookies: pool1k },
    ],
    compareSettings, probes, world.log,
  )) rows.push({ ...row, sessions: 1000, distinct: 1000 });

  const big = await seedSessions(redis, keyPrefix, template, settings.scaleSessions - 1000, 1000, world.secret);
  const memAfter = await usedMemory(world);
  world.log(`  seeded ${settings.scaleSessions} sessions (${(small.seconds + big.seconds).toFixed(1)} s)`);
  await indexOwners(child, big.owners);
  const all = [...small.cookies, ...big.cookies];
  const pool = sample(all, 1000);
  const wide = sample(all, 10_000);
  const n = settings.scaleSessions;
  const label = n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
  for (const row of await compare(
    [
      { name: `Redis ${label} sessions: session-only`, child: floor, path: '/session-only', cookies: pool },
      { name: `Redis ${label} sessions: ours guarded`, child: guarded, path: '/guarded', cookies: pool },
      { name: `Redis ${label} sessions, 10k distinct: session-only`, child: floor, path: '/session-only', cookies: wide },
      { name: `Redis ${label} sessions, 10k distinct: ours guarded`, child: guarded, path: '/guarded', cookies: wide },
    ],
    compareSettings, probes, world.log,
  )) rows.push({ ...row, sessions: n, distinct: row.name.includes('10k distinct') ? 10_000 : 1000 });

  logout.push(await logoutPoint(world, child, n));
  return {
    rows,
    seedSeconds: small.seconds + big.seconds,
    redisBytesPerSession: (memAfter - memBefore) / n,
    logout,
    index: 'createRedisSessionIndex (oidc-session/redis, bench/apps.ts), in Redis',
  };
}
