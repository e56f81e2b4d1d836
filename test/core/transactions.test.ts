import { describe, expect, it } from 'vitest';
import type { LoginTransaction } from '../../lib/core/session/session-data.js';
import { pruneTransactions, takeTransaction, withTransaction } from '../../lib/core/login/transactions.js';

const tx = (createdAt: number): LoginTransaction => ({ provider: 'default', nonce: 'n', codeVerifier: 'v', returnTo: '/', createdAt });

describe('login transactions', () => {
  it('keeps several pending logins keyed by state and takes each once', () => {
    let data = withTransaction(undefined, 's1', tx(100), 100, 600, 5);
    data = withTransaction(data, 's2', tx(101), 101, 600, 5);
    const first = takeTransaction(data, 's1');
    expect(first.tx?.createdAt).toBe(100);
    expect(Object.keys(first.rest)).toEqual(['s2']);
    expect(takeTransaction({ transactions: first.rest }, 's1').tx).toBeUndefined();
  });

  it('drops expired ones and caps the number kept (newest win)', () => {
    const all = { a: tx(0), b: tx(500), c: tx(900), d: tx(950), e: tx(960), f: tx(970) };
    expect(Object.keys(pruneTransactions(all, 1000, 600, 3)).sort()).toEqual(['d', 'e', 'f']);
    expect(Object.keys(pruneTransactions(all, 1000, 600, 10)).sort()).toEqual(['b', 'c', 'd', 'e', 'f']);
  });

  it('does not find inherited properties', () => {
    expect(takeTransaction({ transactions: {} }, '__proto__').tx).toBeUndefined();
    expect(takeTransaction({ transactions: {} }, 'constructor').tx).toBeUndefined();
  });
});
