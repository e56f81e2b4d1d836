import type { JWTPayload } from 'jose';
import { OidcError } from '../errors.js';

function sameAudience(a: JWTPayload['aud'], b: JWTPayload['aud']): boolean {
  const left = (Array.isArray(a) ? [...a] : [a]).sort();
  const right = (Array.isArray(b) ? [...b] : [b]).sort();
  return left.length === right.length && left.every((value, i) => value === right[i]);
}

/**
 * OpenID Connect Core 12.2: an ID token from a refresh must describe the same login. openid-client checks
 * the new token on its own but does not compare it with the original.
 */
export function assertSameLogin(original: JWTPayload, refreshed: JWTPayload): void {
  const mismatch = (claim: string): OidcError =>
    new OidcError('ERR_OIDC_REFRESH_FAILED', `The refreshed ID token has a different "${claim}" than the original; the session has ended`);
  if (refreshed.iss !== original.iss) throw mismatch('iss');
  if (refreshed.sub !== original.sub) throw mismatch('sub');
  if (!sameAudience(original.aud, refreshed.aud)) throw mismatch('aud');
  // azp must be the same, and absent when it was absent.
  if (refreshed.azp !== original.azp) throw mismatch('azp');
  // auth_time, when present, is the time of the original authentication, not of the refresh.
  if (refreshed.auth_time !== undefined && refreshed.auth_time !== original.auth_time) throw mismatch('auth_time');
}
