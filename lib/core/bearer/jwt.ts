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
/** Claims only ID tokens carry (OIDC Core §2, §3.1.3.6, §3.3.2.11): they bind an ID token to its login. */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'];
/** What only access tokens carry: RFC 9068 `client_id`, and the granted scopes (`scp`: Okta, Entra ID). */
const ACCESS_TOKEN_CLAIMS = ['client_id', 'scope', 'scp'];

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
  const typ = protectedHeader.typ === undefined ? undefined : normalizeTyp(protectedHeader.typ);
  if (typ !== undefined && !LAX_TYP.has(typ)) {
    throw invalidToken(settings, scheme, 'The token typ header says it is not an access token');
  }
  const idTokenReason = idTokenEvidence(payload, typ);
  if (idTokenReason) throw invalidToken(settings, scheme, idTokenReason);
  return payload;
}

/**
 * Why a signed, unexpired JWT for our audience is (or may be) an ID token, or undefined when it is an
 * access token. ID tokens travel in URLs (`id_token_hint`) and share the issuer, keys and often the `aud`
 * (the client id) of access tokens, so the signature proves nothing here. A `nonce` is not enough: a
 * refreshed ID token has none (Core §12.2). Refused: any ID-token-only claim, whatever the `typ`; a
 * Keycloak `typ: "ID"` claim; and, without RFC 9068's `typ: at+jwt`, a token with none of client_id /
 * scope / scp, which is what an ID token looks like. `auth_time`, `acr`, `amr`, `sid`, `azp` decide nothing:
 * RFC 9068 §2.2 allows them in access tokens. Discovery metadata has no member that tells the two apart.
 */
function idTokenEvidence(payload: JWTPayload, typ: string | undefined): string | undefined {
  if (ID_TOKEN_CLAIMS.some((claim) => claim in payload)) return 'An ID token is not an access token';
  if (typeof payload.typ === 'string' && payload.typ.toLowerCase() === 'id') return 'An ID token is not an access token';
  if (typ === 'at+jwt' || ACCESS_TOKEN_CLAIMS.some((claim) => payload[claim] !== undefined)) return undefined;
  return 'The token has neither typ at+jwt nor a client_id, scope or scp claim, so it cannot be told from an ID token';
}
