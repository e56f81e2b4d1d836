import { OidcError } from '../errors.js';
import type { OidcErrorCode } from '../errors.js';
import type { ResolvedBearer } from './options.js';

/** How the client presented its token: `Authorization: Bearer …` or `Authorization: DPoP …`. */
export type TokenScheme = 'Bearer' | 'DPoP';

/** What the challenges need to know about the resource server. */
export type ChallengeContext = Pick<ResolvedBearer, 'realm' | 'dpop'>;

interface ChallengeError {
  error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'invalid_dpop_proof';
  description?: string;
  scope?: readonly string[];
}

/** Header-safe quoted-string content: our own texts only, but never let a quote or a control character through. */
function quoted(value: string): string {
  return `"${value.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '')}"`;
}

function challenge(ctx: ChallengeContext, scheme: TokenScheme, error: ChallengeError | undefined): string {
  const params: string[] = [];
  if (ctx.realm !== undefined) params.push(`realm=${quoted(ctx.realm)}`);
  if (error) {
    params.push(`error=${quoted(error.error)}`);
    if (error.description) params.push(`error_description=${quoted(error.description)}`);
    if (error.scope?.length) params.push(`scope=${quoted(error.scope.join(' '))}`);
  }
  if (scheme === 'DPoP' && ctx.dpop) params.push(`algs=${quoted(ctx.dpop.algorithms.join(' '))}`);
  return params.length ? `${scheme} ${params.join(', ')}` : scheme;
}

/**
 * The WWW-Authenticate value. Without an error (no credentials, RFC 6750 §3.1) every scheme we accept is
 * offered; with an error, the scheme the client used answers (RFC 9449 §7.1).
 */
export function wwwAuthenticate(ctx: ChallengeContext, scheme: TokenScheme | undefined, error?: ChallengeError): string {
  if (scheme !== undefined) return challenge(ctx, scheme, error);
  const schemes: TokenScheme[] = ctx.dpop?.required ? ['DPoP'] : ctx.dpop ? ['Bearer', 'DPoP'] : ['Bearer'];
  return schemes.map((s) => challenge(ctx, s, error)).join(', ');
}

/** A refusal is about this token alone: never cached (RFC 6750 §5.3), whatever the app's error handler does. */
function failure(code: OidcErrorCode, message: string, header: string, cause?: unknown): OidcError {
  const headers = { 'WWW-Authenticate': header, 'Cache-Control': 'no-store' };
  return new OidcError(code, message, { headers, ...(cause === undefined ? {} : { cause }) });
}

/** 401 without an error attribute: the request carried no access token at all. */
export function missingToken(ctx: ChallengeContext): OidcError {
  return failure('ERR_OIDC_MISSING_TOKEN', 'An access token is required', wwwAuthenticate(ctx, undefined));
}

/** 401 invalid_token: expired, revoked, malformed, for another audience, badly signed... */
export function invalidToken(ctx: ChallengeContext, scheme: TokenScheme, description: string, cause?: unknown): OidcError {
  return failure('ERR_OIDC_INVALID_TOKEN', description, wwwAuthenticate(ctx, scheme, { error: 'invalid_token', description }), cause);
}

/** 401 invalid_dpop_proof (RFC 9449 §7.1). */
export function invalidDpopProof(ctx: ChallengeContext, description: string, cause?: unknown): OidcError {
  return failure('ERR_OIDC_INVALID_DPOP_PROOF', description, wwwAuthenticate(ctx, 'DPoP', { error: 'invalid_dpop_proof', description }), cause);
}

/** 400 invalid_request: an Authorization header we cannot parse. */
export function invalidRequest(ctx: ChallengeContext, scheme: TokenScheme, description: string): OidcError {
  return failure('ERR_OIDC_INVALID_REQUEST', description, wwwAuthenticate(ctx, scheme, { error: 'invalid_request', description }));
}

/** 403 insufficient_scope, naming every scope the request needs. */
export function insufficientScope(ctx: ChallengeContext, scheme: TokenScheme, scopes: readonly string[]): OidcError {
  const description = `The access token lacks the scope ${scopes.join(' ')}`;
  return failure('ERR_OIDC_INSUFFICIENT_SCOPE', description, wwwAuthenticate(ctx, scheme, { error: 'insufficient_scope', description, scope: scopes }));
}

/** 403 for a failed claim or role check on a bearer token: the token is fine but does not grant this. */
export function insufficientClaims(ctx: ChallengeContext, scheme: TokenScheme, reason: string): OidcError {
  const description = `Access denied: ${reason}`;
  return failure('ERR_OIDC_FORBIDDEN', description, wwwAuthenticate(ctx, scheme, { error: 'insufficient_scope', description }));
}
