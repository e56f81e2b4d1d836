/** Bench settings, all overridable from the environment so a quick run and a careful run use one script. */

function num(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${name} must be a number between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function flag(name: string, fallback: boolean): boolean {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  return raw === '1' || raw.toLowerCase() === 'true';
}

export interface BenchSettings {
  /** Seconds per measured autocannon round. */
  duration: number;
  /** Seconds of the discarded warm-up run per target. */
  warmup: number;
  /** Measured rounds per target (the median is reported). */
  rounds: number;
  /** Server processes per throughput row; rounds 2k and 2k+1 are measured on process k mod replicas. */
  replicas: number;
  /** autocannon connections. */
  connections: number;
  /** Seconds per login-throughput round. */
  loginDuration: number;
  /** Login rounds per RP (each ratio is the median of the rounds' own ratios). */
  loginRounds: number;
  /** Concurrent login drivers. */
  loginConcurrency: number;
  /** Concurrent requests in the refresh burst. */
  burst: number;
  /** Repetitions of the refresh burst. */
  burstRounds: number;
  /** Sessions in Redis for the large scale point. */
  scaleSessions: number;
  /** Rounds for the scale rows. */
  scaleRounds: number;
  /** Back-channel logouts timed per point. */
  logouts: number;
  redisUrl: string;
  /** Run the Redis parts (needs Redis on redisUrl). */
  redis: boolean;
  /** Pin the server to core 0 and the load generator to core 1 with taskset. */
  pin: boolean;
  /** Write V8 CPU profiles of the servers under test to this directory. */
  cpuProfDir: string | undefined;
  /** Rewrite the generated section of BENCHMARKS.md. */
  updateDocs: boolean;
  /** Sections to run (BENCH_ONLY=throughput,logins,refresh,scale); all when empty. */
  only: ReadonlySet<string>;
  /** Only the throughput targets whose name matches (BENCH_TARGETS, a regular expression; for profiling). */
  targets: string | undefined;
}

export const SECTIONS = ['throughput', 'logins', 'refresh', 'scale'] as const;

function sections(): ReadonlySet<string> {
  const raw = process.env.BENCH_ONLY;
  if (!raw) return new Set(SECTIONS);
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(SECTIONS as readonly string[]).includes(name)) throw new Error(`BENCH_ONLY: unknown section "${name}" (known: ${SECTIONS.join(', ')})`);
  }
  return new Set(names);
}

export function readSettings(): BenchSettings {
  return {
    duration: num('BENCH_DURATION', 2, 1, 120),
    warmup: num('BENCH_WARMUP', 2, 0, 60),
    rounds: num('BENCH_ROUNDS', 8, 1, 50),
    replicas: num('BENCH_REPLICAS', 2, 1, 8),
    connections: num('BENCH_CONNECTIONS', 16, 1, 1000),
    loginDuration: num('BENCH_LOGIN_DURATION', 3, 1, 120),
    loginRounds: num('BENCH_LOGIN_ROUNDS', 6, 1, 50),
    loginConcurrency: num('BENCH_LOGIN_CONCURRENCY', 4, 1, 64),
    burst: num('BENCH_BURST', 100, 1, 1000),
    burstRounds: num('BENCH_BURST_ROUNDS', 5, 1, 50),
    scaleSessions: num('BENCH_SCALE_SESSIONS', 100_000, 1_000, 1_000_000),
    scaleRounds: num('BENCH_SCALE_ROUNDS', 3, 1, 50),
    logouts: num('BENCH_LOGOUTS', 5, 1, 100),
    redisUrl: process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379',
    redis: flag('BENCH_REDIS', true),
    pin: flag('BENCH_PIN', true),
    cpuProfDir: process.env.BENCH_CPU_PROF || undefined,
    updateDocs: flag('BENCH_UPDATE_DOCS', false),
    only: sections(),
    targets: process.env.BENCH_TARGETS || undefined,
  };
}
