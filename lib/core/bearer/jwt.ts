import { jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { OidcError } from '../errors.js';
import { isTimeout } from '../idp/upstream-error.js';
import { invalidToken } from './challenge.js';
import type { TokenScheme } from './challenge.js';
import type { ResolvedBearer } from './options.js';

/** RFC 9068 §2.2: the claims a JWT access token must carry (checked with `strict`). */
const RFC9068_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];
/** `typ` values a JWT access token may have outside strict mode (normalized: lower case, no `application/`). */
const LAX_TYP = new Set(['at+jwt', 'jwt']);

/** Compact JWS: three base64url parts, the last one possibly empty (alg none, refused by jose). Anything else (opaque, JWE) goes to introspection. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** A description safe to send in WWW-Authenticate: what was wrong, never the token's content. */
function describe(err: unknown): string {
  const { code, claim, reason } = err as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'The access token has expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return `The access token has no ${claim} claim`;
      if (claim === 'iss') return 'The access token was issued by another issuer';
      if (claim === 'aud') return 'The access token is meant for another audience';
      if (claim === 'nbf') return 'The access token is not valid yet';
      if (claim === 'typ') return 'The access token typ header must be at+jwt';
      return `The access token ${claim} claim is invalid`;
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'The access token is signed with an algorithm this API does not accept';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'The access token is signed with a key the issuer does not publish';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'The access token signature is invalid';
    default:
      return 'The access token is malformed';
  }
}

/** The IdP's key endpoint failing is our problem (5xx), not the client's token (401). */
function upstream(err: unknown): OidcError | undefined {
  if (isTimeout(err)) return new OidcError('ERR_OIDC_IDP_TIMEOUT', "The IdP's JWKS endpoint did not answer in time", { cause: err });
  const code = (err as { code?: string }).code;
  if (code === 'ERR_JWKS_INVALID' || code === 'ERR_JOSE_GENERIC' || (err instanceof TypeError && /fetch/i.test(err.message))) {
    return new OidcError('ERR_OIDC_DISCOVERY_FAILED', "The IdP's JWKS endpoint could not be fetched", { cause: err });
  }
  return undefined;
}

export interface JwtCheck {
  settings: ResolvedBearer;
  issuer: string;
  keys: JWTVerifyGetKey;
  scheme: TokenScheme;
  nowMs: number;
}

/**
 * RFC 9068 validation of a JWT access token: signature with the issuer's JWKS under an allow-list of
 * asymmetric algorithms (so `none` and HS256-keyed-with-the-public-key never reach a key), then iss, aud,
 * exp / nbf with tolerance, and `typ`.
 */
export async function verifyJwtAccessToken(token: string, check: JwtCheck): Promise<JWTPayload> {
  const { settings, scheme } = check;
  let verified;
  try {
    verified = await jwtVerify(token, check.keys, {
      algorithms: [...settings.algorithms],
      issuer: check.issuer,
      audience: [...settings.audience],
      clockTolerance: settings.clockToleranceSec,
      currentDate: new Date(check.nowMs),
      requiredClaims: settings.strict ? RFC9068_CLAIMS : ['exp'],
      ...(settings.strict ? { typ: 'at+jwt' } : {}),
    });
  } catch (err) {
    throw upstream(err) ?? invalidToken(settings, scheme, describe(err), err);
  }
  const { payload, protectedHeader } = verified;
  if (protectedHeader.typ !== undefined && !LAX_TYP.has(normalizeTyp(protectedHeader.typ))) {
    throw invalidToken(settings, scheme, 'The token typ header says it is not an access token');
  }
  // An ID token of the login client has aud = clientId too; `nonce` only ever appears in ID tokens.
  if (settings.rejectIdTokens && 'nonce' in payload) {
    throw invalidToken(settings, scheme, 'An ID token is not an access token');
  }
  return payload;
}
