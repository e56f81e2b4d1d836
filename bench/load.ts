/**
 * One autocannon round against one route of a server child, with the child's CPU time, the IdP requests
 * and (optionally) Redis's CPU time measured over the same window.
 */
import autocannon from 'autocannon';
import type { ServerChild } from './child.js';
import type { TestIdp } from '../lib/testing/index.js';
import { median, spreadPct } from './stats.js';

export interface Target {
  /** Row label. */
  name: string;
  child: ServerChild;
  path: string;
  /** Cookie headers; with more than one, each connection cycles through them. */
  cookies: string[];
  /** More processes serving the same row: round r is measured on `[this, ...replicas][r mod n]`. */
  replicas?: Array<{ child: ServerChild; cookies: string[] }>;
}

/** The process (and its cookies) that measures `target` in round `r`. */
function inRound(target: Target, r: number): Target {
  const all = [{ child: target.child, cookies: target.cookies }, ...(target.replicas ?? [])];
  return { ...target, ...(all[r % all.length] as { child: ServerChild; cookies: string[] }) };
}

export interface Probes {
  idp: TestIdp;
  /** Cumulative Redis server CPU seconds (INFO cpu), when Redis is in the picture. */
  redisCpu?: () => Promise<number>;
}

export interface RoundResult {
  rps: number;
  requests: number;
  /** Server-under-test CPU (user + system) per request, microseconds. */
  cpuUs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Requests the IdP received during the round (every endpoint). */
  idpCalls: number;
  redisCpuUs?: number;
}

export interface TargetResult {
  name: string;
  rounds: RoundResult[];
  rps: number;
  cpuUs: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  redisCpuUs?: number;
  /** (max - min) / median of req/s over the rounds, percent. */
  spreadPct: number;
  idpCalls: number;
}

function idpTotal(idp: TestIdp): number {
  return Object.values(idp.counters).reduce((a, b) => a + b, 0);
}

export async function round(target: Target, seconds: number, connections: number, probes: Probes): Promise<RoundResult> {
  const { child, path, cookies } = target;
  await child.request({ cmd: 'gc' });
  const idpBefore = idpTotal(probes.idp);
  const redisBefore = await probes.redisCpu?.();
  const before = await child.cpu();
  const options: autocannon.Options = {
    url: child.baseUrl + path,
    connections,
    duration: seconds,
    pipelining: 1,
    ...(cookies.length === 1
      ? { headers: { cookie: cookies[0] as string } }
      : { requests: cookies.map((cookie) => ({ method: 'GET' as const, path, headers: { cookie } })) }),
  };
  const result = await autocannon(options);
  const after = await child.cpu();
  const redisAfter = await probes.redisCpu?.();
  if (result.errors || result.non2xx || result.timeouts) {
    throw new Error(`${target.name}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts: the route is not answering 200`);
  }
  const served = Math.max(1, after.requests - before.requests);
  return {
    rps: result.requests.total / result.duration,
    requests: result.requests.total,
    cpuUs: (after.cpuMicros - before.cpuMicros) / served,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    idpCalls: idpTotal(probes.idp) - idpBefore,
    ...(redisBefore !== undefined && redisAfter !== undefined ? { redisCpuUs: ((redisAfter - redisBefore) * 1e6) / served } : {}),
  };
}

export function summarize(name: string, rounds: RoundResult[]): TargetResult {
  const redis = rounds.map((r) => r.redisCpuUs).filter((v): v is number => v !== undefined);
  return {
    name,
    rounds,
    rps: median(rounds.map((r) => r.rps)),
    cpuUs: median(rounds.map((r) => r.cpuUs)),
    latencyP50Ms: median(rounds.map((r) => r.latencyP50Ms)),
    latencyP99Ms: median(rounds.map((r) => r.latencyP99Ms)),
    ...(redis.length ? { redisCpuUs: median(redis) } : {}),
    spreadPct: spreadPct(rounds.map((r) => r.rps)),
    idpCalls: rounds.reduce((a, r) => a + r.idpCalls, 0),
  };
}

/**
 * Warm-up (discarded) for every target, then `rounds` rounds in which every target runs once, in the
 * given order in even rounds and in reverse in odd ones: targets listed next to each other are measured
 * seconds apart in every round, and a slow drift of the machine favours neither side of a pair over two
 * rounds. The other tenants of a shared machine change its speed over seconds (BENCHMARKS.md, Noise), so
 * ratios are best taken round by round between neighbours (throughput.ts).
 */
export async function compare(
  targets: Target[],
  settings: { warmup: number; duration: number; rounds: number; connections: number },
  probes: Probes,
  log: (line: string) => void,
): Promise<TargetResult[]> {
  for (const target of targets) {
    for (let k = 0; k <= (target.replicas?.length ?? 0); k++) {
      if (settings.warmup > 0) await round(inRound(target, k), settings.warmup, settings.connections, probes);
    }
  }
  const results = new Map<string, RoundResult[]>(targets.map((t) => [t.name, []]));
  for (let r = 0; r < settings.rounds; r++) {
    for (let i = 0; i < targets.length; i++) {
      const target = targets[r % 2 === 0 ? i : targets.length - 1 - i] as Target;
      // Each process of a row serves a forward and a reverse round in turn.
      const result = await round(inRound(target, Math.floor(r / 2)), settings.duration, settings.connections, probes);
      results.get(target.name)?.push(result);
      log(`  round ${r + 1}/${settings.rounds} ${target.name}: ${Math.round(result.rps)} req/s, ${result.cpuUs.toFixed(1)} us CPU/req`);
    }
  }
  return targets.map((t) => summarize(t.name, results.get(t.name) ?? []));
}
