import type { KoaSessionStore } from '../../lib/koa/index.js';

/**
 * An in-memory koa-session external store the tests can look into. Records are kept as JSON strings,
 * like a real store, so a test never sees the request's live object. `delayMs` slows every call down
 * (to prove the library waits for the store before answering).
 */
export class MemoryKoaStore implements KoaSessionStore {
  private readonly records = new Map<string, { json: string; expiresAt: number }>();
  delayMs = 0;
  readonly calls = { get: 0, set: 0, destroy: 0 };

  private async pause(): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
  }

  async get(key: string): Promise<Record<string, unknown> | undefined> {
    this.calls.get++;
    await this.pause();
    const record = this.records.get(key);
    if (!record) return undefined;
    if (record.expiresAt <= Date.now()) {
      this.records.delete(key);
      return undefined;
    }
    return JSON.parse(record.json) as Record<string, unknown>;
  }

  async set(key: string, session: Record<string, unknown>, maxAge: number | 'session' | undefined): Promise<void> {
    this.calls.set++;
    await this.pause();
    const ttl = typeof maxAge === 'number' ? maxAge : 86_400_000;
    this.records.set(key, { json: JSON.stringify(session), expiresAt: Date.now() + ttl });
  }

  async destroy(key: string): Promise<void> {
    this.calls.destroy++;
    await this.pause();
    this.records.delete(key);
  }

  /** Every live record, parsed, keyed by koa-session's external key. Synchronous: a snapshot of this instant. */
  all(): Record<string, Record<string, unknown>> {
    const now = Date.now();
    return Object.fromEntries(
      [...this.records].filter(([, record]) => record.expiresAt > now).map(([key, record]) => [key, JSON.parse(record.json) as Record<string, unknown>]),
    );
  }
}
