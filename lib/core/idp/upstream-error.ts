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

/** The OAuth 2.0 / OpenID Connect error codes of an authorization response (RFC 6749 §4.1.2.1, Core §3.1.2.6). */
const AUTHORIZATION_ERRORS = new Set([
  'invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope', 'server_error',
  'temporarily_unavailable', 'interaction_required', 'login_required', 'account_selection_required', 'consent_required',
  'invalid_request_uri', 'invalid_request_object', 'request_not_supported', 'request_uri_not_supported', 'registration_not_supported',
]);

/**
 * An authorization response's `error` as a message may show it: a registered code, or nothing of it. The
 * callback's query is anyone's text (a cross-site link), and exposed messages never repeat request text;
 * the raw value stays in `idpError` for the app.
 */
export function shownErrorCode(error: string): string {
  return AUTHORIZATION_ERRORS.has(error) ? error : 'an unregistered error code';
}
/** A 401 / invalid_client from the token endpoint is nearly always the client's credentials or auth method. */
const CLIENT_AUTH_HINT =
  ': the IdP did not accept the client\'s credentials. Check "clientSecret" (the client\'s current secret at the IdP) and ' +
  '"clientAuthMethod" (client_secret_basic by default; some IdPs register clients for client_secret_post)';

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A JWS algorithm name as it may appear in a message (the header is the IdP's: nothing else gets through). */
const ALG_NAME = /^[A-Za-z0-9+_-]{1,16}$/;

/**
 * oauth4webapi's 'unexpected JWT "alg" header parameter' (cause `{ header, expected }`), which openid-client
 * wraps once more: which alg came, and which one we pinned.
 */
function unexpectedAlg(err: unknown): { used: string; expected: string } | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    if (errorCode(e) !== 'OAUTH_INVALID_RESPONSE') return undefined;
    const cause = (e as { cause?: { header?: { alg?: unknown }; expected?: unknown } }).cause;
    const used = cause?.header?.alg;
    const expected = cause?.expected;
    if (typeof used === 'string' && typeof expected === 'string' && ALG_NAME.test(used) && ALG_NAME.test(expected)) return { used, expected };
  }
  return undefined;
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
    return new OidcError('ERR_OIDC_ACCESS_DENIED', `The IdP refused the login (${shownErrorCode(err.error)})`, {
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
    const hint = (err.status === 401 || err.error === 'invalid_client') && phase !== 'revocation' ? CLIENT_AUTH_HINT : '';
    return new OidcError(PHASE_CODE[phase], `The IdP's ${label} answered with an error (${err.error}, HTTP ${err.status})${hint}`, {
      cause: err,
      idpError: err.error,
    });
  }
  if (err instanceof WWWAuthenticateChallengeError) {
    const hint = phase === 'userinfo'
      ? '; an access token issued for an API (authorizationParams resource/audience) is often not accepted there: set fetchUserinfo: false'
      : err.status === 401 && (phase === 'token' || phase === 'refresh' || phase === 'par') ? CLIENT_AUTH_HINT : '';
    return new OidcError(PHASE_CODE[phase], `The IdP's ${label} refused the request (HTTP ${err.status})${hint}`, { cause: err });
  }
  const code = errorCode(err);
  const algs = unexpectedAlg(err);
  if (algs && phase !== 'discovery' && phase !== 'userinfo') {
    return new OidcError('ERR_OIDC_INVALID_ID_TOKEN', `The IdP signed the ID token with ${algs.used}, but the oidc() option idTokenSigningAlg is ${algs.expected}: ` +
      `have the IdP sign this client's ID tokens with ${algs.expected}, or set idTokenSigningAlg to the asymmetric algorithm it uses (HS* and none are refused)`, { cause: err });
  }
  if ((phase === 'token' || phase === 'refresh') && code && VALIDATION_CODES.has(code)) {
    return new OidcError('ERR_OIDC_INVALID_ID_TOKEN', `The token response failed validation (${code})`, { cause: err });
  }
  if (err instanceof TypeError && /fetch failed/i.test(err.message)) {
    return new OidcError(PHASE_CODE[phase], `The IdP's ${label} could not be reached`, { cause: err });
  }
  const detail = code ? ` (${code})` : '';
  return new OidcError(PHASE_CODE[phase], `The IdP's ${label} gave an invalid response${detail}`, { cause: err });
}

/** Connection errors that mean the request never reached the IdP (nothing was sent). */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH']);

/**
 * True when a failed IdP call certainly never reached the IdP: discovery failed (so no token request
 * was made), or the connection was refused or the name did not resolve. A timeout or a reset may have
 * reached it. The callback keeps its pending login in that case, so the same callback can be tried again.
 */
export function neverReachedIdp(err: unknown): boolean {
  if (err instanceof OidcError && err.code === 'ERR_OIDC_DISCOVERY_FAILED') return true;
  for (let e: unknown = err, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = errorCode(e);
    if (code && NOT_SENT_CODES.has(code)) return true;
    const inner = (e as { errors?: unknown }).errors;
    if (Array.isArray(inner) && inner.length > 0 && inner.every((x) => NOT_SENT_CODES.has(errorCode(x) ?? ''))) return true;
  }
  return false;
}
