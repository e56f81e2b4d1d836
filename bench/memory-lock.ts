/**
 * MemoryLock acquire cost against the number of keys it holds (issue 12, defect 10), beside the previous
 * algorithm (a scan of every key once more than 10,000 are held) as the baseline, in the same process.
 * Prints per-acquire time (best of five rounds) and the ratio of the 200,000-key row to the 1,000-key row for each.
 * Run: node --import tsx bench/memory-lock.ts
 */
import { MemoryLock } from '../lib/core/stores/lock.js';
import type { RefreshLock } from '../lib/core/stores/lock.js';

/** The MemoryLock of before the fix, kept here only as the baseline. */
class ScanningLock implements RefreshLock {
  /** Filled directly by the bench: through acquire() the fill alone is quadratic. */
  readonly held = new Map<string, number>();
  private readonly clock: () => number;
  constructor(clock: () => number) {
    this.clock = clock;
  }
  async acquire(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    const until = this.held.get(key);
    if (until !== undefined && until > now) return false;
    if (this.held.size > 10_000) for (const [k, u] of this.held) if (u <= now) this.held.delete(k);
    this.held.set(key, now + ttlMs);
    return true;
  }
  async release(key: string): Promise<void> {
    this.held.delete(key);
  }
}

const SIZES = [1_000, 20_000, 200_000];
const PROBES = 500;

async function perAcquireUs(make: (clock: () => number) => RefreshLock, held: number): Promise<number> {
  let now = 1_000_000;
  const lock = make(() => now);
  // Keys that live long (refresh and callback claims, back-channel jti) fill the lock first.
  if (lock instanceof ScanningLock) for (let i = 0; i < held; i++) lock.held.set(`held-${i}`, now + 3_600_000);
  else for (let i = 0; i < held; i++) await lock.acquire(`held-${i}`, 3_600_000);
  // The best of five rounds: the first ones pay for the fill's garbage collection.
  let best = Infinity;
  for (let round = 0; round < 5; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < PROBES; i++) {
      now += 1;
      await lock.acquire(`probe-${round}-${i}`, 60_000);
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1000 / PROBES);
  }
  return best;
}

const rows: Array<[string, (clock: () => number) => RefreshLock]> = [
  ['baseline (scan)', (clock) => new ScanningLock(clock)],
  ['MemoryLock (heap)', (clock) => new MemoryLock(clock)],
];
for (const [name, make] of rows) {
  await perAcquireUs(make, 1_000); // warm-up
  const times: number[] = [];
  for (const size of SIZES) times.push(await perAcquireUs(make, size));
  const cells = SIZES.map((size, i) => `${size.toLocaleString('en')} keys: ${(times[i] as number).toFixed(2)} µs`).join(', ');
  console.log(`${name.padEnd(18)} ${cells}; 200k/1k ratio ${((times[2] as number) / (times[0] as number)).toFixed(1)}x`);
}
