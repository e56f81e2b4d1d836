import { createHash } from 'node:crypto';
import { jwtVerify } from 'jose';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import { isTimeout } from '../idp/upstream-error.js';

export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';
/** A logout token is sent right after the logout at the IdP; an old one is a replay. */
const MAX_LOGOUT_TOKEN_AGE_SEC = 300;
const ALLOWED_TYP = new Set(['logout+jwt', 'application/logout+jwt', 'jwt']);

export interface LogoutTokenClaims {
  iss: string;
  jti: string;
  sub?: string;
  sid?: string;
  /** Milliseconds the `jti` must be remembered to refuse replays: as long as the token would still be accepted. */
  replayWindowMs: number;
}

function reject(message: string, cause?: unknown): OidcError {
  return new OidcError('ERR_OIDC_INVALID_LOGOUT_TOKEN', message, cause === undefined ? {} : { cause });
}

function failedValidation(err: unknown): OidcError {
  const { code, claim, reason } = err as { code?: string; claim?: string; reason?: string };
  // `claim` is a name from jose's own checks or from our list below, never the token's text.
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && reason === 'missing') return reject(`The logout token has no "${claim}"`, err);
  if (code === 'ERR_JWT_EXPIRED') return reject('The logout token has expired ("exp")', err);
  return reject(`The logout token failed validation (${code ?? 'ERR_JWT_INVALID'})`, err);
}

/**
 * OpenID Connect Back-Channel Logout 1.0 (errata set 1) §2.6, steps 1-7; the jti replay check is the
 * caller's, for `replayWindowMs`. `exp` is required (errata 1): without it a token is accepted as long as
 * its `iat` is recent, and an `iat` ahead of our clock would outlive any window counted from now.
 */
export async function verifyLogoutToken(cfg: ResolvedConfig, provider: DiscoveredProvider, token: string): Promise<LogoutTokenClaims> {
  const now = cfg.clock();
  let verified;
  try {
    verified = await jwtVerify(token, provider.logoutTokenKeys, {
      algorithms: [provider.settings.idTokenSigningAlg],
      issuer: provider.issuer,
      audience: provider.settings.clientId,
      clockTolerance: cfg.clockToleranceSec,
      currentDate: new Date(now),
      requiredClaims: ['iat', 'exp', 'jti', 'events'],
    });
  } catch (err) {
    if (isTimeout(err)) throw reject('The IdP keys could not be fetched in time', err);
    throw failedValidation(err);
  }
  const { payload, protectedHeader } = verified;
  if (protectedHeader.typ !== undefined && !ALLOWED_TYP.has(protectedHeader.typ.toLowerCase())) {
    throw reject('The logout token has a "typ" header other than logout+jwt');
  }
  const nowSec = Math.floor(now / 1000);
  const iat = payload.iat as number;
  if (iat > nowSec + cfg.clockToleranceSec || iat < nowSec - MAX_LOGOUT_TOKEN_AGE_SEC - cfg.clockToleranceSec) {
    throw reject('The logout token "iat" is too far from now');
  }
  const events = payload.events;
  if (typeof events !== 'object' || events === null || Array.isArray(events)) throw reject('The logout token has no "events" object');
  const event = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
  if (typeof event !== 'object' || event === null || Array.isArray(event)) throw reject('The logout token lacks the back-channel logout event');
  if ('nonce' in payload) throw reject('The logout token must not contain a "nonce"');
  const sub = typeof payload.sub === 'string' ? payload.sub : undefined;
  const sid = typeof payload.sid === 'string' ? payload.sid : undefined;
  if (!sub && !sid) throw reject('The logout token has neither "sub" nor "sid"');
  if (typeof payload.jti !== 'string' || payload.jti.length === 0) throw reject('The logout token has no "jti"');
  // The last second in which both checks above would still pass, whatever clock the IdP has: the jti is kept until then.
  const acceptedUntilSec = Math.min(payload.exp as number, iat + MAX_LOGOUT_TOKEN_AGE_SEC) + cfg.clockToleranceSec;
  return {
    iss: payload.iss as string,
    jti: payload.jti,
    ...(sub ? { sub } : {}),
    ...(sid ? { sid } : {}),
    replayWindowMs: Math.max((acceptedUntilSec + 1) * 1000 - now, 1000),
  };
}

export function replayKey(claims: LogoutTokenClaims): string {
  return 'logout-jti:' + createHash('sha256').update(`${claims.iss}\n${claims.jti}`).digest('base64url').slice(0, 32);
}
