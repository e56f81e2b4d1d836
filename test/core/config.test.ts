import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../lib/core/config/resolve-config.js';
import { OidcError } from '../../lib/core/errors.js';
import type { OidcOptions } from '../../lib/core/config/options.js';

const base: OidcOptions = { issuer: 'https://idp.example.com', clientId: 'app', clientSecret: 's', baseUrl: 'https://app.example.com' };

function configError(options: unknown): OidcError {
  try {
    resolveConfig(options as OidcOptions);
  } catch (err) {
    expect(err).toBeInstanceOf(OidcError);
    expect((err as OidcError).code).toBe('ERR_OIDC_INVALID_CONFIG');
    return err as OidcError;
  }
  throw new Error('expected resolveConfig to throw');
}

describe('resolveConfig', () => {
  it('applies the documented defaults', () => {
    const cfg = resolveConfig(base);
    const [provider] = cfg.providers;
    expect(provider?.redirectUri).toBe('https://app.example.com/callback');
    expect(provider?.scope).toBe('openid profile email');
    expect(provider?.clientAuthMethod).toBe('client_secret_basic');
    expect(provider?.idTokenSigningAlg).toBe('RS256');
    expect(cfg.routes).toEqual({ login: '/login', callback: '/callback', logout: '/logout', postLogoutRedirect: '/', backchannelLogout: '/backchannel-logout' });
    expect(cfg.httpTimeoutMs).toBe(5000);
    expect(cfg.clockToleranceSec).toBe(60);
    expect(cfg.absoluteDurationSec).toBe(7 * 86400);
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('keeps a path prefix of baseUrl in the redirect_uri', () => {
    const cfg = resolveConfig({ ...base, baseUrl: 'https://app.example.com/app/' });
    expect(cfg.providers[0]?.redirectUri).toBe('https://app.example.com/app/callback');
  });

  it('makes a client without a secret public (PKCE only)', () => {
    const { clientSecret: _omit, ...publicClient } = base;
    expect(resolveConfig(publicClient).providers[0]?.clientAuthMethod).toBe('none');
  });

  it.each([
    [{ ...base, clientId: undefined }, '"clientId"'],
    [{ ...base, baseUrl: 'app.example.com' }, '"baseUrl"'],
    [{ ...base, baseUrl: 'https://app.example.com/?x=1' }, '"baseUrl"'],
    [{ ...base, issuer: 'ftp://idp.example.com' }, '"issuer"'],
    [{ ...base, issuer: 'http://idp.example.com' }, '"issuer" must use https'],
    [{ ...base, issuer: 'https://idp.example.com/.well-known/openid-configuration' }, '.well-known'],
    [{ ...base, clockTolerance: 301 }, '"clockTolerance"'],
    [{ ...base, httpTimeout: -1 }, '"httpTimeout"'],
    [{ ...base, idTokenSigningAlg: 'none' }, '"idTokenSigningAlg"'],
    [{ ...base, idTokenSigningAlg: 'HS256' }, '"idTokenSigningAlg"'],
    [{ ...base, scope: 'profile' }, '"scope"'],
    [{ ...base, authorizationParams: { redirect_uri: 'https://evil' } }, '"authorizationParams.redirect_uri"'],
    [{ ...base, authorizationParams: { client_id: 'other' } }, '"authorizationParams.client_id"'],
    [{ ...base, loginParams: ['state'] }, '"loginParams"'],
    [{ ...base, routes: { login: 'login' } }, '"routes.login"'],
    [{ ...base, routes: { signin: '/x' } }, '"routes.signin"'],
    [{ ...base, clientAuthMethod: 'client_secret_post', clientSecret: undefined }, '"clientSecret"'],
    [{ ...base, issuerr: 'typo' }, 'unknown option "issuerr"'],
    [{ ...base, logger: { info() {} } }, '"logger.debug"'],
  ])('names the option in the error (%#)', (options, fragment) => {
    expect(configError(options).message).toContain(fragment);
  });

  it('allows http issuers on loopback, and elsewhere only with allowInsecureRequests', () => {
    expect(() => resolveConfig({ ...base, issuer: 'http://127.0.0.1:4000' })).not.toThrow();
    expect(() => resolveConfig({ ...base, issuer: 'http://localhost:4000' })).not.toThrow();
    expect(() => resolveConfig({ ...base, issuer: 'http://[::1]:4000' })).not.toThrow();
    expect(() => resolveConfig({ ...base, issuer: 'http://idp.internal', allowInsecureRequests: true })).not.toThrow();
  });
});

describe('express-openid-connect option names (issue 13)', () => {
  it.each([
    ['issuerBaseURL', '"issuer"'],
    ['baseURL', '"baseUrl"'],
    ['clientID', '"clientId"'],
    ['authRequired', 'auth.requireAuth()'],
    ['secret', 'session({ secret })'],
    ['auth0Logout', '"idpLogout: true"'],
    ['afterCallback', '"onLogin"'],
  ])('%s names the option to use instead and the migration guide', (name, replacement) => {
    const err = configError({ ...base, [name]: 'x' });
    expect(err.message).toContain(`"${name}" is an express-openid-connect option`);
    expect(err.message).toContain(replacement);
    expect(err.message).toContain('docs/migrating-from-express-openid-connect.md');
  });

  it('a plain typo is still just an unknown option', () => {
    expect(configError({ ...base, clientSecet: 'x' }).message).toBe('oidc(): unknown option "clientSecet"');
  });
});
