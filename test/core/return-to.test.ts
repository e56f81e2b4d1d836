import { describe, expect, it } from 'vitest';
import { safeReturnTo } from '../../lib/core/http/return-to.js';

const origin = 'https://app.example.com';

describe('safeReturnTo', () => {
  it.each([
    ['/profile', '/profile'],
    ['/a/b?x=1&y=2#top', '/a/b?x=1&y=2#top'],
    ['/caf%C3%A9', '/caf%C3%A9'],
    ['/', '/'],
  ])('keeps the same-origin path %s', (input, expected) => {
    expect(safeReturnTo(input, origin)).toBe(expected);
  });

  it.each([
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'https://evil.example/',
    'javascript:alert(1)',
    'evil.example',
    '/%2F%2Fevil.example',
    '/%2f/evil.example',
    '%2F%2Fevil.example',
    '/%5Cevil.example',
    '/%252F%252Fevil.example',
    '/.//evil.example/phish',
    '/..//evil.example',
    '/a/..//evil.example',
    '/%2E//evil.example',
    '/\tevil',
    '/a\r\nSet-Cookie: x=1',
    '/a%0d%0aSet-Cookie:x',
    '/%00',
    '/%E0%A4%A',
    '',
    '/' + 'a'.repeat(3000),
  ])('rejects %j', (input) => {
    expect(safeReturnTo(input, origin)).toBeUndefined();
  });

  it('rejects non-strings', () => {
    expect(safeReturnTo(['/a'], origin)).toBeUndefined();
    expect(safeReturnTo(undefined, origin)).toBeUndefined();
    expect(safeReturnTo({ a: 1 }, origin)).toBeUndefined();
  });
});
