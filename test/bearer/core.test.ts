import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readClaim } from '../../lib/core/tokens/claim-path.js';
import { invalidToken, missingToken, wwwAuthenticate } from '../../lib/core/bearer/challenge.js';
import { carriesAccessToken, readCredentials } from '../../lib/core/bearer/credentials.js';
import { resolveBearerOptions } from '../../lib/core/bearer/options.js';
import type { BearerVerifyOptions } from '../../lib/core/bearer/options.js';
import { ASYMMETRIC_ALGS, invalidFor } from '../../lib/core/config/validators.js';
import { ERROR_STATUS, OidcError } from '../../lib/core/errors.js';

const plain = { realm: undefined, dpop: undefined };
const dpop = { realm: 'api', dpop: { required: false, algorithms: ['ES256', 'EdDSA'] } };
const invalid = invalidFor('requireBearer()');

describe('WWW-Authenticate challenges (RFC 6750 §3, RFC 9449 §7.1)', () => {
  it('no credentials: the bare scheme(s), no error attribute', () => {
    expect(wwwAuthenticate(plain, undefined)).toBe('Bearer');
    expect(wwwAuthenticate({ realm: 'api', dpop: undefined }, undefined)).toBe('Bearer realm="api"');
    expect(wwwAuthenticate(dpop, undefined)).toBe('Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA"');
    expect(wwwAuthenticate({ ...dpop, dpop: { ...dpop.dpop, required: true } }, undefined)).toBe('DPoP realm="api", algs="ES256 EdDSA"');
  });

  it('errors answer in the scheme the client used, with error, description and scope', () => {
    expect(wwwAuthenticate(plain, 'Bearer', { error: 'insufficient_scope', description: 'x', scope: ['a', 'b'] }))
      .toBe('Bearer error="insufficient_scope", error_description="x", scope="a b"');
    expect(wwwAuthenticate(dpop, 'DPoP', { error: 'invalid_dpop_proof' })).toBe('DPoP realm="api", error="invalid_dpop_proof", algs="ES256 EdDSA"');
  });

  it('never lets a quote, a backslash or a control character into a quoted string', () => {
    expect(wwwAuthenticate(plain, 'Bearer', { error: 'invalid_token', description: 'a"b\\c\r\nd' })).toBe('Bearer error="invalid_token", error_description="abcd"');
  });

  it('errors carry status, code and the header for Express and Koa', () => {
    const none = missingToken(plain);
    expect(none).toBeInstanceOf(OidcError);
    expect([none.status, none.code, none.expose, none.headers]).toEqual([401, 'ERR_OIDC_MISSING_TOKEN', true, { 'WWW-Authenticate': 'Bearer', 'Cache-Control': 'no-store' }]);
    expect(invalidToken(plain, 'Bearer', 'nope').status).toBe(401);
    expect(ERROR_STATUS).toMatchObject({
      ERR_OIDC_MISSING_TOKEN: 401, ERR_OIDC_INVALID_TOKEN: 401, ERR_OIDC_INVALID_DPOP_PROOF: 401,
      ERR_OIDC_INSUFFICIENT_SCOPE: 403, ERR_OIDC_INVALID_REQUEST: 400, ERR_OIDC_INTROSPECTION_FAILED: 502,
    });
  });
});

describe('reading the Authorization header', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['Basic YTpi', undefined],
    ['Bearerx abc', undefined],
    ['Bearer abc', { scheme: 'Bearer', token: 'abc' }],
    ['  BEARER   abc  ', { scheme: 'Bearer', token: 'abc' }],
    ['Bearer\tabc', { scheme: 'Bearer', token: 'abc' }],
    ['dpop a.b.c', { scheme: 'DPoP', token: 'a.b.c' }],
    ['Bearer A-z0_9.~+/==', { scheme: 'Bearer', token: 'A-z0_9.~+/==' }],
  ])('%j → %j', (header, expected) => {
    expect(readCredentials(header, plain)).toEqual(expected);
  });

  it.each(['Bearer', 'Bearer ', 'Bearer a b', 'Bearer a,b', 'DPoP a=b', 'Bearer ä'])('%j is invalid_request (400)', (header) => {
    expect(() => readCredentials(header, plain)).toThrow(expect.objectContaining({ code: 'ERR_OIDC_INVALID_REQUEST', status: 400 }));
  });

  it('knows a token-bearing header without parsing it (for the session-or-bearer switch)', () => {
    expect(carriesAccessToken('Bearer x')).toBe(true);
    expect(carriesAccessToken('Bearer')).toBe(true);
    expect(carriesAccessToken('DPoP x')).toBe(true);
    expect(carriesAccessToken('Basic x')).toBe(false);
    expect(carriesAccessToken('Bearerish x')).toBe(false);
    expect(carriesAccessToken(undefined)).toBe(false);
  });
});

describe('bearer options', () => {
  it('defaults: asymmetric algorithms only, 30 s JWKS cool-down, 60 s tolerance, 30 s introspection cache', () => {
    const s = resolveBearerOptions({ audience: 'a', introspection: { clientId: 'c', clientSecret: 's' }, dpop: {}, baseUrl: 'https://api.example.test' } as BearerVerifyOptions, invalid, {}, true);
    expect(s.algorithms).toEqual(ASYMMETRIC_ALGS);
    expect(s.algorithms.some((alg) => alg === 'none' || alg.startsWith('HS'))).toBe(false);
    expect([s.jwksCooldownSec, s.clockToleranceSec, s.introspection?.cacheTtlSec, s.strict, s.scopes]).toEqual([30, 60, 30, false, []]);
    expect(s.dpop).toEqual({ required: false, algorithms: ASYMMETRIC_ALGS });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('requireAuth({ bearer }): audience defaults to the client id', () => {
    const s = resolveBearerOptions({}, invalid, { clientId: 'rp', clockToleranceSec: 10 });
    expect([s.audience, s.clockToleranceSec]).toEqual([['rp'], 10]);
    expect(resolveBearerOptions({ audience: 'https://api' }, invalid, { clientId: 'rp' }).audience).toEqual(['https://api']);
  });

  it.each<[Record<string, unknown>, RegExp]>([
    [{}, /"audience" is required/],
    [{ audience: ['a', 3] }, /"audience"/],
    [{ audience: 'a', algorithms: [] }, /"algorithms"/],
    [{ audience: 'a', algorithms: ['RS256', 'HS512'] }, /"algorithms"/],
    [{ audience: 'a', dpop: { algorithms: ['none'] } }, /"dpop.algorithms"/],
    [{ audience: 'a', dpop: true }, /"dpop" must be an object/],
    [{ audience: 'a', strict: 'yes' }, /"strict" must be true or false/],
    [{ audience: 'a', realm: 'a"b' }, /"realm"/],
    [{ audience: 'a', scopes: 'read' }, /"scopes"/],
    [{ audience: 'a', jwksCooldown: -1 }, /"jwksCooldown" must be a number from 0 to 600/],
    [{ audience: 'a', introspection: { clientId: 'c', clientSecret: 's', cacheTtl: 3600 } }, /"introspection.cacheTtl"/],
    [{ audience: 'a', introspection: { clientId: 'c', clientSecret: 's', clientAuthMethod: 'none' } }, /"introspection.clientAuthMethod"/],
    [{ audience: 'a', issuer: 'https://x' }, /unknown option "issuer"/],
  ])('refuses %j', (options, message) => {
    expect(() => resolveBearerOptions(options, invalid)).toThrow(message);
  });

  it('DPoP needs the public URL: requireBearer() refuses dpop without baseUrl; requireAuth({ bearer }) takes oidc()\'s', () => {
    expect(() => resolveBearerOptions({ audience: 'a', dpop: {} }, invalid, {}, true)).toThrow(/"baseUrl" .* is required with "dpop"/);
    for (const baseUrl of ['api.example.test', 'ftp://api.example.test', 'https://api.example.test/?x=1']) {
      expect(() => resolveBearerOptions({ audience: 'a', dpop: {}, baseUrl } as BearerVerifyOptions, invalid, {}, true)).toThrow(/"baseUrl" must be an absolute http\(s\) URL/);
    }
    const inherited = resolveBearerOptions({ dpop: {} }, invalid, { clientId: 'rp', baseUrl: new URL('https://rp.example.test/app') });
    expect(inherited.baseUrl?.href).toBe('https://rp.example.test/app');
    expect(() => resolveBearerOptions({ audience: 'a', baseUrl: 'https://x' } as BearerVerifyOptions, invalid)).toThrow(/unknown option "baseUrl"/);
  });
});

describe('readClaim (shared with the session guards)', () => {
  const claims = JSON.parse(JSON.stringify({
    sub: 'u1',
    roles: ['admin'],
    realm_access: { roles: ['editor'] },
    'https://example.test/roles': ['ns-admin'],
    'https://example.test/org': { id: 'o1', 'a.b': 2 },
    'urn:zitadel:iam:org:project:roles': { admin: {} },
    'a.b': 'dotted',
  })) as Record<string, unknown>;

  it('reads dot paths, namespaced claim names as one key, and key arrays', () => {
    expect(readClaim(claims, 'realm_access.roles')).toEqual(['editor']);
    expect(readClaim(claims, 'https://example.test/roles')).toEqual(['ns-admin']);
    expect(readClaim(claims, 'http://example.test/roles')).toBeUndefined();
    expect(readClaim(claims, ['https://example.test/org', 'a.b'])).toBe(2);
    expect(readClaim(claims, ['a.b'])).toBe('dotted');
    expect(readClaim(claims, 'urn:zitadel:iam:org:project:roles')).toEqual({ admin: {} });
    expect(readClaim(claims, 'roles.0')).toBe('admin');
  });

  it('never reads inherited properties, even for claim names an attacker could choose', () => {
    const hostile = JSON.parse('{"__proto__": {"admin": true}, "sub": "x"}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    expect(readClaim(hostile, 'admin')).toBeUndefined();
    expect(readClaim(hostile, '__proto__.admin')).toBe(true); // an own claim literally named "__proto__"
    expect(readClaim(claims, 'constructor')).toBeUndefined();
    expect(readClaim(claims, 'sub.length')).toBeUndefined();
    expect(readClaim(claims, 'roles.length')).toBeUndefined();
    expect(readClaim(claims, 'toString')).toBeUndefined();
  });

  it('answers undefined for empty paths and segments and for non-objects', () => {
    expect(readClaim(claims, '')).toBeUndefined();
    expect(readClaim(claims, 'realm_access..roles')).toBeUndefined();
    expect(readClaim(claims, [])).toBe(claims);
    expect(readClaim(null, 'sub')).toBeUndefined();
    expect(readClaim('sub', 'length')).toBeUndefined();
  });
});

describe('lib/core/bearer', () => {
  it('never imports a framework', () => {
    const dir = new URL('../../lib/core/bearer/', import.meta.url);
    const offenders = readdirSync(dir).filter((file) => /from '(express|koa|express-session|koa-session)(\/[^']*)?'/.test(readFileSync(new URL(file, dir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
