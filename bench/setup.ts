/**
 * The bench world: three servers under test in child processes (ours + MemoryStore, ours + connect-redis,
 * express-openid-connect), the embedded IdP in this process with a client for each, and a Redis client
 * for the probes. Everything binds to 127.0.0.1; everything written to Redis sits under one unique prefix
 * that is deleted at the end.
 */
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { createTestIdp } from '../lib/testing/index.js';
import type { TestIdp } from '../lib/testing/index.js';
import { startChild } from './child.js';
import type { ServerChild } from './child.js';
import type { BenchSettings } from './env.js';
import type { ChildSpec } from './protocol.js';

export type BenchRedis = ReturnType<typeof createClient>;

/** Access tokens live this long at the IdP; the refresh burst moves the RP's clock past it. */
export const ACCESS_TOKEN_TTL_SEC = 600;
/** Routes of the throughput rows, each measured in processes of its own (`settings.replicas` of them). */
const LANE_ROUTES = ['bare', 'session-only', 'mounted', 'guarded'] as const;
const SECRET = 'bench-only-secret-' + randomBytes(12).toString('hex');

export interface World {
  settings: BenchSettings;
  idp: TestIdp;
  endSessionEndpoint: string;
  oursMemory: ServerChild;
  oursRedis: ServerChild | undefined;
  eoc: ServerChild;
  /**
   * The throughput rows' processes (`<main name>:<route>#<replica>`), running the same apps: a route
   * measured in a process that also serves other routes would share its inline caches and heap with them,
   * and two processes of the same code differ by a few percent (JIT, heap), so each row has several.
   */
  lanes: Map<string, ServerChild>;
  redis: BenchRedis | undefined;
  redisPrefix: string;
  secret: string;
  redisCpu: (() => Promise<number>) | undefined;
  log(line: string): void;
  close(): Promise<void>;
}

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!['127.0.0.1', 'localhost', '[::1]', '::1'].includes(host)) throw new Error(`BENCH_REDIS_URL must point at loopback, got ${host}`);
}

async function connectRedis(url: string): Promise<BenchRedis> {
  assertLoopback(url);
  const client = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${url} (${(err as Error).message}). Start it (redis-server --bind 127.0.0.1 --port 6379 --save "") or run with BENCH_REDIS=0 to skip the Redis rows.`,
    );
  }
  return client;
}

/** Deletes every key under the run's prefix (bounded: at most 10,000 SCAN pages). */
export async function deletePrefix(redis: BenchRedis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  for (let page = 0; page < 10_000; page++) {
    const reply = await redis.scan(cursor, { MATCH: `${prefix}*`, COUNT: 5000 });
    cursor = String(reply.cursor);
    if (reply.keys.length) deleted += await redis.unlink(reply.keys);
    if (cursor === '0') break;
  }
  return deleted;
}

export async function createWorld(settings: BenchSettings, log: (line: string) => void, core: number | undefined): Promise<World> {
  const redis = settings.redis ? await connectRedis(settings.redisUrl) : undefined;
  const redisPrefix = `oidc-bench:${process.pid}-${randomBytes(4).toString('hex')}:`;
  const spec = (name: string, kind: ChildSpec['kind'], store: ChildSpec['store'], route?: string): ChildSpec => ({
    name, kind, store, redisUrl: settings.redisUrl, redisPrefix, secret: SECRET, ...(route ? { route } : {}),
  });
  const options = { core, cpuProfDir: settings.cpuProfDir };
  const children: ServerChild[] = [];
  let idp: TestIdp | undefined;
  const close = async () => {
    await Promise.all(children.map((c) => c.close()));
    await idp?.close().catch(() => undefined);
    if (redis) {
      const deleted = await deletePrefix(redis, redisPrefix).catch(() => 0);
      log(`cleanup: deleted ${deleted} Redis keys under ${redisPrefix}`);
      await redis.close().catch(() => undefined);
    }
  };
  try {
    const oursMemory = await startChild(spec('ours-memory', 'ours', 'memory'), options);
    children.push(oursMemory);
    const oursRedis = redis ? await startChild(spec('ours-redis', 'ours', 'redis'), options) : undefined;
    if (oursRedis) children.push(oursRedis);
    const eoc = await startChild(spec('eoc', 'eoc', 'memory'), options);
    children.push(eoc);
    const lanes = new Map<string, ServerChild>();
    const laneSets = [
      ['ours-memory', 'ours', 'memory', LANE_ROUTES],
      ['ours-redis', 'ours', 'redis', LANE_ROUTES.filter((r) => r !== 'bare')],
      ['eoc', 'eoc', 'memory', ['guarded']],
    ] as const;
    for (const [main, kind, store, routes] of laneSets) {
      if (main === 'ours-redis' && !oursRedis) continue;
      for (const route of routes) {
        for (let replica = 0; replica < settings.replicas; replica++) {
          const lane = await startChild(spec(`${main}:${route}#${replica}`, kind, store, route), options);
          children.push(lane);
          lanes.set(lane.spec.name, lane);
        }
      }
    }
    idp = await createTestIdp({
      accessTokenTtl: ACCESS_TOKEN_TTL_SEC,
      clients: children.map((child) => ({
        client_id: child.spec.name,
        client_secret: `${child.spec.name}-secret`,
        redirect_uris: [`${child.baseUrl}/callback`],
        post_logout_redirect_uris: [`${child.baseUrl}/`],
        ...(child.spec.kind === 'ours' ? { backchannel_logout_uri: `${child.baseUrl}/backchannel-logout` } : {}),
      })),
    });
    for (const child of children) {
      await child.request({ cmd: 'configure', issuer: idp.issuer, clientId: child.spec.name, clientSecret: `${child.spec.name}-secret`, baseUrl: child.baseUrl });
    }
    const discovery = (await (await fetch(`${idp.issuer}/.well-known/openid-configuration`)).json()) as { end_session_endpoint: string };
    const redisCpu = redis
      ? async () => {
          const info = await redis.info('cpu');
          const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1] ?? 0);
          const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1] ?? 0);
          return user + sys;
        }
      : undefined;
    return {
      settings, idp, endSessionEndpoint: discovery.end_session_endpoint, oursMemory, oursRedis, eoc, lanes, redis, redisPrefix, secret: SECRET, redisCpu, log, close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
