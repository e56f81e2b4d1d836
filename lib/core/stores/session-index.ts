/** Who a session belongs to, as a back-channel logout token names it. */
export interface SessionOwner {
  iss: string;
  sub: string;
  sid?: string;
}

/**
 * Maps (iss, sid) and (iss, sub) to session ids, so a back-channel logout can destroy the right sessions
 * in the store directly instead of every request asking "was I logged out?".
 */
export interface SessionIndex {
  /** Remembers that `sessionId` holds the login of `owner`, for `ttlSec` seconds. */
  add(owner: SessionOwner, sessionId: string, ttlSec: number): Promise<void>;
  /** Session ids for an (iss, sid) and/or (iss, sub) pair. */
  find(query: { iss: string; sid?: string; sub?: string }): Promise<string[]>;
  /** Forgets `sessionId` for `owner` (at logout). */
  remove(owner: { iss: string; sid?: string; sub?: string }, sessionId: string): Promise<void>;
}

function keys(owner: { iss: string; sid?: string; sub?: string }): string[] {
  const out: string[] = [];
  if (owner.sid) out.push(`sid\n${owner.iss}\n${owner.sid}`);
  if (owner.sub) out.push(`sub\n${owner.iss}\n${owner.sub}`);
  return out;
}

/** In-process SessionIndex for a single instance. Entries expire with the session. */
export class MemorySessionIndex implements SessionIndex {
  private readonly entries = new Map<string, Map<string, number>>();
  private readonly clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.clock = clock;
  }

  async add(owner: SessionOwner, sessionId: string, ttlSec: number): Promise<void> {
    const until = this.clock() + ttlSec * 1000;
    for (const key of keys(owner)) {
      let ids = this.entries.get(key);
      if (!ids) this.entries.set(key, (ids = new Map()));
      ids.set(sessionId, until);
    }
  }

  async find(query: { iss: string; sid?: string; sub?: string }): Promise<string[]> {
    const now = this.clock();
    const found = new Set<string>();
    for (const key of keys(query)) {
      const ids = this.entries.get(key);
      if (!ids) continue;
      for (const [id, until] of ids) {
        if (until > now) found.add(id);
        else ids.delete(id);
      }
      if (ids.size === 0) this.entries.delete(key);
    }
    return [...found];
  }

  async remove(owner: { iss: string; sid?: string; sub?: string }, sessionId: string): Promise<void> {
    for (const key of keys(owner)) {
      const ids = this.entries.get(key);
      ids?.delete(sessionId);
      if (ids?.size === 0) this.entries.delete(key);
    }
  }
}
