/**
 * A named lock with a time-to-live, shared by every instance of the app (Redis in production). Used so
 * that one refresh token is redeemed once across all instances, that one callback is completed once,
 * and to remember back-channel logout and DPoP token ids (`jti`) that were already used.
 */
export interface TtlLock {
  /** Takes `key` for `ttlMs` milliseconds. Resolves false when someone holds it already. */
  acquire(key: string, ttlMs: number): Promise<boolean>;
  /** Gives `key` back early (only if this instance holds it). */
  release(key: string): Promise<void>;
}

/** The public name of TtlLock (the `lock` option, the Redis helper), kept so no app breaks. */
export type RefreshLock = TtlLock;

/** In-process TtlLock: right for a single instance; use the Redis one for several. */
export class MemoryLock implements TtlLock {
  private readonly held = new Map<string, number>();
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  async acquire(key: string, ttlMs: number): Promise<boolean> {
    const now = this.clock();
    const until = this.held.get(key);
    if (until !== undefined && until > now) return false;
    if (this.held.size > 10_000) this.sweep(now);
    this.held.set(key, now + ttlMs);
    return true;
  }

  async release(key: string): Promise<void> {
    this.held.delete(key);
  }

  private sweep(now: number): void {
    for (const [key, until] of this.held) if (until <= now) this.held.delete(key);
  }
}
