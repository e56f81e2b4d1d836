/** Issue 12, defect 11: the decoded-claims cache is bounded in bytes, not only in entries. */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClaimsCache } from '../../lib/core/session/user.js';

/** A token with a signature of its own, as every signed token has (the cache never checks it). */
function jwt(claims: Record<string, unknown>, signature = randomBytes(256).toString('base64url')): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256' })}.${part(claims)}.${signature}`;
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
    // Two generations of half the budget each: at least a full older generation is held (less one
    // token's worth), so the budget is used, not just respected.
    expect(bytes).toBeGreaterThan(1024 * 1024 / 2 - 4 * (tokens[0] as string).length);
    // The one used all along is still the same cached object.
    expect(cache.get(tokens[0] as string)).toBe(kept);
  });

  it('the default budget holds thousands of ordinary ID tokens but caps large ones near 8 MiB', () => {
    const cache = new ClaimsCache();
    // HS256-sized signatures (43 characters): small tokens.
    for (let i = 0; i < 6000; i++) cache.get(jwt({ sub: `u${i}`, email: `u${i}@example.com` }, randomBytes(32).toString('base64url')));
    // The entry bound, not the byte bound, limits them: two generations of 2,500 (a full older one and
    // the 1,000 tokens of the current one).
    expect(cache.usage.entries).toBe(3500);
    expect(cache.usage.bytes).toBeLessThan(4 * 1024 * 1024);
    const big = new ClaimsCache();
    const groups = Array.from({ length: 1200 }, (_, i) => `g-${i}-xxxxxxxxxxxxxxxx`);
    // 400 tokens of ~40 KB: 64 MB held by an entry count alone.
    for (let i = 0; i < 400; i++) big.get(jwt({ sub: `u${i}`, groups }));
    expect(big.usage.bytes).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(big.usage.entries).toBeLessThan(100);
  });

  it('drops the least recently used tokens first: a token read again survives the next generation', () => {
    const cache = new ClaimsCache({ maxEntries: 4 });
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((sub) => jwt({ sub })) as [string, string, string, string, string];
    const first = { a: cache.get(a), b: cache.get(b) };
    cache.get(c); // current generation full (2 of 4): a and b become the older one
    cache.get(a); // read again: moves to the current generation
    cache.get(d); // a full current generation (c, a) replaces the older one (b)
    cache.get(e);
    expect(cache.usage.entries).toBe(4); // c, a | d, e
    expect(cache.get(a)).toBe(first.a);
    expect(cache.get(b)).not.toBe(first.b);
    expect(cache.get(b)).toEqual(first.b);
  });

  it('builds req.user once per token and hands out a copy each time', () => {
    const cache = new ClaimsCache();
    const token = jwt({ sub: 'a', iss: 'https://op', aud: 'rp', nonce: 'n', email: 'a@example.com' });
    const user = cache.user(token, undefined);
    expect(user).toEqual({ sub: 'a', iss: 'https://op', email: 'a@example.com' });
    (user as Record<string, unknown>).added = 1;
    expect(cache.user(token, undefined)).toEqual({ sub: 'a', iss: 'https://op', email: 'a@example.com' });
    expect(cache.user(token, undefined)).not.toBe(cache.user(token, undefined));
    expect(cache.user(token, { name: 'A' })).toMatchObject({ sub: 'a', name: 'A' });
  });

  it('never mistakes one token for another that ends the same (same signature, other claims)', () => {
    const cache = new ClaimsCache({ maxEntries: 4 });
    const signature = randomBytes(256).toString('base64url');
    const groups = Array.from({ length: 50 }, (_, i) => `group-${i}`);
    // The claims differ only at the start: the tokens' last few hundred characters are the same.
    const alice = jwt({ sub: 'alice', groups }, signature);
    const bob = jwt({ sub: 'bob', groups }, signature);
    expect(alice.slice(-300)).toBe(bob.slice(-300));
    for (let i = 0; i < 3; i++) {
      expect(cache.get(alice).sub).toBe('alice');
      expect(cache.get(bob).sub).toBe('bob');
      expect(cache.user(alice, undefined).sub).toBe('alice');
      expect(cache.user(bob, undefined).sub).toBe('bob');
    }
    expect(cache.usage.entries).toBeLessThanOrEqual(2);
    expect(cache.usage.bytes).toBeLessThanOrEqual(4 * (alice.length + bob.length));
  });

  it('a token larger than the whole budget is decoded but not kept', () => {
    const cache = new ClaimsCache({ maxBytes: 1000 });
    const token = jwt({ sub: 'a', blob: 'x'.repeat(1000) });
    expect(cache.get(token).sub).toBe('a');
    expect(cache.usage).toEqual({ entries: 0, bytes: 0 });
  });
});
