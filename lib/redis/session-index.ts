import type { SessionIndex, SessionOwner } from '../core/stores/session-index.js';
import { resolveHelper, runScript } from './client.js';
import type { RedisHelperOptions, RedisScriptClient, ResolvedRedisHelper } from './client.js';

/*
 * One sorted set per (iss, sid) and per (iss, sub): members are session ids, scores the second (Redis
 * server time) each entry expires. A plain set would only expire as a whole, so a user who logs in every
 * day without logging out would grow one forever; scores let every add drop the expired members and let
 * find() ignore them, like the in-memory index. The key itself expires with its newest entry.
 *
 * One script per key (never two keys in one script), so every call also works on Redis Cluster.
 * No SCAN/KEYS anywhere: every operation names its keys.
 */
const ADD = `
local now = tonumber(redis.call('TIME')[1])
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
if redis.call('TTL', KEYS[1]) < ttl then redis.call('EXPIRE', KEYS[1], ttl) end
return 1`;

const FIND = `
local now = tonumber(redis.call('TIME')[1])
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')`;

const REMOVE = `return redis.call('ZREM', KEYS[1], ARGV[1])`;

type Owner = { iss: string; sid?: string; sub?: string };

/** `<prefix>sid:<iss>|<sid>` with both parts URI-encoded, so `|` can never appear inside a part. */
function keysOf(prefix: string, owner: Owner): string[] {
  const out: string[] = [];
  const iss = encodeURIComponent(owner.iss);
  if (owner.sid) out.push(`${prefix}sid:${iss}|${encodeURIComponent(owner.sid)}`);
  if (owner.sub) out.push(`${prefix}sub:${iss}|${encodeURIComponent(owner.sub)}`);
  return out;
}

class RedisSessionIndex implements SessionIndex {
  private readonly redis: ResolvedRedisHelper;

  constructor(redis: ResolvedRedisHelper) {
    this.redis = redis;
  }

  async add(owner: SessionOwner, sessionId: string, ttlSec: number): Promise<void> {
    const ttl = String(Math.max(1, Math.ceil(ttlSec)));
    await Promise.all(keysOf(this.redis.prefix, owner).map((key) => runScript(this.redis, 'session index add', ADD, [key], [sessionId, ttl])));
  }

  async find(query: Owner): Promise<string[]> {
    const lists = await Promise.all(keysOf(this.redis.prefix, query).map((key) => runScript(this.redis, 'session index find', FIND, [key], [])));
    const found = new Set<string>();
    for (const list of lists) if (Array.isArray(list)) for (const id of list) found.add(String(id));
    return [...found];
  }

  async remove(owner: Owner, sessionId: string): Promise<void> {
    await Promise.all(keysOf(this.redis.prefix, owner).map((key) => runScript(this.redis, 'session index remove', REMOVE, [key], [sessionId])));
  }
}

/**
 * The Redis `sessionIndex` for `oidc()`: (iss, sid) and (iss, sub) -> session ids, shared by every
 * instance, so a back-channel logout received by one instance finds sessions created by any other.
 * Entries expire with the session (the `ttlSec` the engine passes: `absoluteDuration`).
 */
export function createRedisSessionIndex(client: RedisScriptClient, options: RedisHelperOptions): SessionIndex {
  return new RedisSessionIndex(resolveHelper('createRedisSessionIndex', client, options));
}
