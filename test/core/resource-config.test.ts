import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lib/core/config/resolve-config.js';
import type { OidcOptions } from '../../lib/core/config/options.js';
import { cachedResourceToken, resourceRequest } from '../../lib/core/tokens/resource-tokens.js';
import type { AuthenticatedSession } from '../../lib/core/session/session-data.js';

const base: OidcOptions = { issuer: 'https://idp.example.com', clientId: 'app', clientSecret: 's', baseUrl: 'https://app.example.com' };

function message(options: unknown): string {
  try {
    resolveConfig(options as OidcOptions);
  } catch (err) {
    expect((err as { code?: string }).code).toBe('ERR_OIDC_INVALID_CONFIG');
    return (err as Error).message;
  }
  throw new Error('expected resolveConfig to throw');
}

describe('resources and maxResourceTokens options', () => {
  it('accepts absolute resource URIs, dedupes them, and defaults maxResourceTokens to 10', () => {
    const cfg = resolveConfig({ ...base, resources: ['https://a.example', 'urn:example:b', 'https://a.example'] });
    expect(cfg.providers[0]?.resources).toEqual(['https://a.example', 'urn:example:b']);
    expect(cfg.maxResourceTokens).toBe(10);
    expect(resolveConfig(base).providers[0]?.resources).toEqual([]);
  });

  it.each([
    [[], '"resources" must be an array'],
    ['https://a.example', '"resources" must be an array'],
    [['/relative'], '"resources" entries must be absolute URIs'],
    [['https://a.example/#x'], 'without a fragment'],
    [[42], 'absolute URIs'],
  ])('refuses resources %j', (resources, expected) => {
    expect(message({ ...base, resources })).toContain(expected);
  });

  it('refuses resources together with authorizationParams.resource, naming both', () => {
    expect(message({ ...base, resources: ['https://a.example'], authorizationParams: { resource: 'https://b.example' } })).toContain('"authorizationParams.resource"');
  });

  it('names the provider entry', () => {
    expect(message({ baseUrl: base.baseUrl, providers: [{ id: 'x', issuer: base.issuer, clientId: 'a', resources: ['nope'] }] })).toContain('"providers[0].resources"');
  });

  it.each([0, 51, 'x'])('refuses maxResourceTokens %j', (value) => {
    expect(message({ ...base, maxResourceTokens: value })).toContain('"maxResourceTokens"');
  });
});

describe('resource token cache rules', () => {
  const auth = {
    resourceTokens: { 'https://a.example': { accessToken: 't', expiresAt: 1000, scope: 'read write', obtainedAt: 900 } },
  } as unknown as AuthenticatedSession;

  it('serves a token that lives minTtl more and covers the scopes asked for', () => {
    expect(cachedResourceToken(auth, resourceRequest({ resource: 'https://a.example', scope: 'write read' }, 't'), 900)?.accessToken).toBe('t');
    expect(cachedResourceToken(auth, resourceRequest({ resource: 'https://a.example', minTtl: 60 }, 't'), 941)).toBeUndefined();
    expect(cachedResourceToken(auth, resourceRequest({ resource: 'https://a.example', scope: 'admin' }, 't'), 900)).toBeUndefined();
    expect(cachedResourceToken(auth, resourceRequest({ resource: 'https://b.example' }, 't'), 900)).toBeUndefined();
  });

  it('normalises the scope so equal requests share one flight', () => {
    expect(resourceRequest({ resource: 'https://a.example', scope: ' b a  b ' }, 't').scope).toBe('a b');
    expect(() => resourceRequest({ resource: 'https://a.example', scope: 'bad"quote' }, 't')).toThrow(/"scope"/);
    expect(() => resourceRequest({ resource: 'https://a.example', minTtl: -1 }, 't')).toThrow(/"minTtl"/);
  });
});
