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
  /** Seconds the `jti` must be remembered to refuse replays. */
  replayWindowSec: number;
}

function reject(message: string, cause?: unknown): OidcError {
  return new OidcError('ERR_OIDC_INVALID_LOGOUT_TOKEN', message, cause === undefined ? {} : { cause });
}

/** OpenID Connect Back-Channel Logout 1.0 §2.6, steps 1-7 (the jti replay check is the caller's). */
export async function verifyLogoutToken(cfg: ResolvedConfig, provider: DiscoveredProvider, token: string): Promise<LogoutTokenClaims> {
  const now = cfg.clock();
  let verified;
  try {
    verified = await jwtVerify(token, provider.jwks, {
      algorithms: [provider.settings.idTokenSigningAlg],
      issuer: provider.issuer,
      audience: provider.settings.clientId,
      clockTolerance: cfg.clockToleranceSec,
      currentDate: new Date(now),
      requiredClaims: ['iat', 'jti', 'events'],
    });
  } catch (err) {
    if (isTimeout(err)) throw reject('The IdP keys could not be fetched in time', err);
    throw reject(`The logout token failed validation (${(err as { code?: string }).code ?? 'ERR_JWT_INVALID'})`, err);
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
  const expiresIn = typeof payload.exp === 'number' ? payload.exp - nowSec : MAX_LOGOUT_TOKEN_AGE_SEC;
  return {
    iss: payload.iss as string,
    jti: payload.jti,
    ...(sub ? { sub } : {}),
    ...(sid ? { sid } : {}),
    replayWindowSec: Math.max(expiresIn, MAX_LOGOUT_TOKEN_AGE_SEC) + cfg.clockToleranceSec,
  };
}

export function replayKey(claims: LogoutTokenClaims): string {
  return 'logout-jti:' + createHash('sha256').update(`${claims.iss}\n${claims.jti}`).digest('base64url').slice(0, 32);
}
