import { AuthorizationResponseError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { OidcError } from '../errors.js';
import type { OidcErrorCode } from '../errors.js';

/** The step of a flow that talked to the IdP, so a failure names where it happened. */
export type IdpPhase = 'discovery' | 'par' | 'token' | 'id_token' | 'userinfo' | 'refresh' | 'revocation' | 'jwks';

const PHASE_CODE: Record<IdpPhase, OidcErrorCode> = {
  discovery: 'ERR_OIDC_DISCOVERY_FAILED',
  par: 'ERR_OIDC_TOKEN_REQUEST_FAILED',
  token: 'ERR_OIDC_TOKEN_REQUEST_FAILED',
  id_token: 'ERR_OIDC_INVALID_ID_TOKEN',
  userinfo: 'ERR_OIDC_USERINFO_FAILED',
  refresh: 'ERR_OIDC_TOKEN_REQUEST_FAILED',
  revocation: 'ERR_OIDC_TOKEN_REQUEST_FAILED',
  jwks: 'ERR_OIDC_INVALID_ID_TOKEN',
};

const PHASE_LABEL: Record<IdpPhase, string> = {
  discovery: 'discovery document',
  par: 'pushed authorization request endpoint',
  token: 'token endpoint',
  id_token: 'ID token',
  userinfo: 'userinfo endpoint',
  refresh: 'token endpoint (refresh)',
  revocation: 'revocation endpoint',
  jwks: 'JWKS endpoint',
};

/** openid-client / jose codes that mean the IdP's answer failed validation (not a transport problem). */
const VALIDATION_CODES = new Set([
  'OAUTH_INVALID_RESPONSE',
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_UNSUPPORTED_OPERATION',
  'OAUTH_KEY_SELECTION_FAILED',
  'OAUTH_PARSE_ERROR',
]);

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const name = (e as { name?: unknown }).name;
    const code = errorCode(e);
    if (code === 'OAUTH_TIMEOUT' || code === 'ERR_JWKS_TIMEOUT' || name === 'TimeoutError') return true;
  }
  return false;
}

/**
 * Turns anything thrown while talking to the IdP into an OidcError. The message names the step and the
 * library code (e.g. OAUTH_JWT_CLAIM_COMPARISON_FAILED) but never the IdP's free text, tokens or claims;
 * the original error stays in `cause` for the app's logs.
 */
export function toIdpError(err: unknown, phase: IdpPhase): OidcError {
  if (err instanceof OidcError) return err;
  const label = PHASE_LABEL[phase];
  if (isTimeout(err)) {
    return new OidcError('ERR_OIDC_IDP_TIMEOUT', `The IdP's ${label} did not answer in time`, { cause: err });
  }
  if (err instanceof AuthorizationResponseError) {
    return new OidcError('ERR_OIDC_ACCESS_DENIED', `The IdP refused the login (${err.error})`, {
      cause: err,
      idpError: err.error,
      ...(err.error_description ? { idpErrorDescription: err.error_description } : {}),
    });
  }
  if (err instanceof ResponseBodyError) {
    if (err.error === 'invalid_grant' && phase === 'token') {
      return new OidcError('ERR_OIDC_INVALID_GRANT', 'The IdP rejected the authorization code (expired or already used)', {
        cause: err,
        idpError: err.error,
      });
    }
    if (err.error === 'invalid_grant' && phase === 'refresh') {
      return new OidcError('ERR_OIDC_REFRESH_FAILED', 'The IdP rejected the refresh token; the session has ended', {
        cause: err,
        idpError: err.error,
      });
    }
    return new OidcError(PHASE_CODE[phase], `The IdP's ${label} answered with an error (${err.error}, HTTP ${err.status})`, {
      cause: err,
      idpError: err.error,
    });
  }
  if (err instanceof WWWAuthenticateChallengeError) {
    const hint = phase === 'userinfo'
      ? '; an access token issued for an API (authorizationParams resource/audience) is often not accepted there: set fetchUserinfo: false'
      : '';
    return new OidcError(PHASE_CODE[phase], `The IdP's ${label} refused the request (HTTP ${err.status})${hint}`, { cause: err });
  }
  const code = errorCode(err);
  if ((phase === 'token' || phase === 'refresh') && code && VALIDATION_CODES.has(code)) {
    return new OidcError('ERR_OIDC_INVALID_ID_TOKEN', `The token response failed validation (${code})`, { cause: err });
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new OidcError(PHASE_CODE[phase], `The IdP's ${label} could not be reached`, { cause: err });
  }
  const detail = code ? ` (${code})` : '';
  return new OidcError(PHASE_CODE[phase], `The IdP's ${label} gave an invalid response${detail}`, { cause: err });
}
