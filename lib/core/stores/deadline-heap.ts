/** One key and the moment it expires. */
export interface Deadline {
  at: number;
  key: string;
}

/**
 * A binary min-heap of deadlines: the earliest one is found in O(1) and added or removed in O(log n).
 * Entries are never updated in place; the owner checks a popped entry against its own record and
 * ignores it when the key was released or taken again since (lazy deletion).
 */
export class DeadlineHeap {
  private items: Deadline[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): Deadline | undefined {
    return this.items[0];
  }

  push(at: number, key: string): void {
    const items = this.items;
    const entry = { at, key };
    let index = items.push(entry) - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((items[parent] as Deadline).at <= at) break;
      items[index] = items[parent] as Deadline;
      index = parent;
    }
    items[index] = entry;
  }

  pop(): Deadline | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    let index = 0;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && (items[right] as Deadline).at < (items[left] as Deadline).at ? right : left;
      if ((items[child] as Deadline).at >= last.at) break;
      items[index] = items[child] as Deadline;
      index = child;
    }
    items[index] = last;
    return top;
  }

  /** Starts again from `live` alone, dropping entries of released keys (O(n), so rarely). */
  reset(live: Iterable<[string, number]>): void {
    this.items = [];
    for (const [key, at] of live) this.push(at, key);
  }
}
