/** Issue 12, defect 11: the decoded-claims cache is bounded in bytes, not only in entries. */
import { describe, expect, it } from 'vitest';
import { ClaimsCache } from '../../lib/core/session/user.js';

function jwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.c2ln`;
}

describe('ClaimsCache', () => {
  it('decodes once and serves the same frozen claims again', () => {
    const cache = new ClaimsCache();
    const token = jwt({ sub: 'a', groups: ['x'] });
    const first = cache.get(token);
    expect(first).toEqual({ sub: 'a', groups: ['x'] });
    expect(Object.isFrozen(first)).toBe(true);
    expect(cache.get(token)).toBe(first);
  });

  it('large ID tokens (big group claims) are held up to the byte budget, least recently used out first', () => {
    const cache = new ClaimsCache({ maxEntries: 5000, maxBytes: 1024 * 1024 });
    const groups = Array.from({ length: 400 }, (_, i) => `group-with-a-long-name-${i}`);
    const tokens = Array.from({ length: 200 }, (_, i) => jwt({ sub: `user-${i}`, groups }));
    expect(tokens[0]?.length).toBeGreaterThan(15_000);
    const kept = cache.get(tokens[0] as string);
    for (const token of tokens.slice(1)) {
      cache.get(token);
      cache.get(tokens[0] as string);
    }
    const { entries, bytes } = cache.usage;
    expect(bytes).toBeLessThanOrEqual(1024 * 1024);
    expect(entries).toBeLessThan(20);
    // Full up to about one token's worth: the budget is used, not just respected.
    expect(bytes).toBeGreaterThan(1024 * 1024 - 2 * 4 * (tokens[0] as string).length);
    // The one used all along is still the same cached object.
    expect(cache.get(tokens[0] as string)).toBe(kept);
  });

  it('the default budget holds thousands of ordinary ID tokens but caps large ones near 8 MiB', () => {
    const cache = new ClaimsCache();
    for (let i = 0; i < 6000; i++) cache.get(jwt({ sub: `u${i}`, email: `u${i}@example.com` }));
    expect(cache.usage.entries).toBe(5000);
    const big = new ClaimsCache();
    const groups = Array.from({ length: 1200 }, (_, i) => `g-${i}-xxxxxxxxxxxxxxxx`);
    // 400 tokens of ~40 KB: 64 MB held by an entry count alone.
    for (let i = 0; i < 400; i++) big.get(jwt({ sub: `u${i}`, groups }));
    expect(big.usage.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(big.usage.entries).toBeLessThan(100);
  });

  it('a token larger than the whole budget is decoded but not kept', () => {
    const cache = new ClaimsCache({ maxBytes: 1000 });
    const token = jwt({ sub: 'a', blob: 'x'.repeat(1000) });
    expect(cache.get(token).sub).toBe('a');
    expect(cache.usage).toEqual({ entries: 0, bytes: 0 });
  });
});
