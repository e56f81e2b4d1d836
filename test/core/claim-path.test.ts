import { describe, expect, it } from 'vitest';
import { claimEquals, claimIncludes, claimValues, readClaim } from '../../lib/core/tokens/claim-path.js';

const user = {
  sub: 'u1',
  roles: ['admin', 'user'],
  realm_access: { roles: ['editor'] },
  'https://example.com/roles': ['ns-admin'],
  'https://example.com/org': { id: 'o1' },
  scope: 'read write',
  flags: { 'a.b': true },
};

describe('claim paths', () => {
  it('reads top-level claims, dot paths and namespaced claim names', () => {
    expect(readClaim(user, 'sub')).toBe('u1');
    expect(readClaim(user, 'realm_access.roles')).toEqual(['editor']);
    expect(readClaim(user, 'https://example.com/roles')).toEqual(['ns-admin']);
    expect(readClaim(user, ['flags', 'a.b'])).toBe(true);
    expect(readClaim(user, ['https://example.com/org', 'id'])).toBe('o1');
  });

  it('answers undefined for missing paths and never walks the prototype', () => {
    expect(readClaim(user, 'realm_access.groups')).toBeUndefined();
    expect(readClaim(user, 'sub.length')).toBeUndefined();
    expect(readClaim(user, '__proto__')).toBeUndefined();
    expect(readClaim(user, 'constructor.name')).toBeUndefined();
    expect(readClaim(undefined, 'sub')).toBeUndefined();
  });

  it('compares values and membership', () => {
    expect(claimEquals(user, 'sub', 'u1')).toBe(true);
    expect(claimEquals(user, 'realm_access.roles', ['editor'])).toBe(true);
    expect(claimEquals(user, 'sub', 'u2')).toBe(false);
    expect(claimIncludes(user, 'roles', ['admin', 'user'])).toBe(true);
    expect(claimIncludes(user, 'roles', ['admin', 'owner'])).toBe(false);
    expect(claimIncludes(user, 'scope', ['write'])).toBe(true);
    expect(claimIncludes(user, 'missing', ['x'])).toBe(false);
    expect(claimValues('a b  c')).toEqual(['a', 'b', 'c']);
    expect(claimValues(['a', 1, 'b'])).toEqual(['a', 'b']);
  });
});
