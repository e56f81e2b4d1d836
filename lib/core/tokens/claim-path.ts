/**
 * Reads a claim by path: a dot path (`realm_access.roles`), an `http(s)://` namespaced claim name (Auth0
 * style, one key even though it contains dots), or an array of keys for anything else.
 */
export function readClaim(source: unknown, path: string | readonly string[]): unknown {
  const keys = typeof path === 'string' ? (/^https?:\/\//.test(path) ? [path] : path.split('.')) : path;
  let current: unknown = source;
  for (const key of keys) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    // An array's own "length" is not a claim; only its indexes are.
    if (Array.isArray(current) && !/^\d+$/.test(key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** A claim as a list of strings: arrays as they are, a space-separated string split (like `scope`). */
export function claimValues(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'string') return value.split(' ').filter(Boolean);
  return [];
}

/** Claim matching: equal primitives, or objects and arrays equal in every member. */
function sameClaimValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return typeof a === 'object' && a !== null && typeof b === 'object' && b !== null && JSON.stringify(a) === JSON.stringify(b);
}

export function claimEquals(source: unknown, path: string | readonly string[], expected: unknown): boolean {
  return sameClaimValue(readClaim(source, path), expected);
}

/** Every expected value is present in the claim (an array, or a space-separated string). */
export function claimIncludes(source: unknown, path: string | readonly string[], expected: readonly unknown[]): boolean {
  const value = readClaim(source, path);
  const list: unknown[] = Array.isArray(value) ? value : typeof value === 'string' ? value.split(' ') : [];
  return expected.every((item) => list.some((entry) => sameClaimValue(entry, item)));
}
