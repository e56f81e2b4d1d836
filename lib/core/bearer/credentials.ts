import { invalidRequest } from './challenge.js';
import type { ChallengeContext, TokenScheme } from './challenge.js';

export interface Credentials {
  scheme: TokenScheme;
  token: string;
}

const SCHEME = /^(bearer|dpop)(?:[ \t]|$)/i;
/** RFC 6750 §2.1 b64token (token68). */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True when the Authorization header uses the Bearer or DPoP scheme, well formed or not. */
export function carriesAccessToken(authorization: string | undefined): boolean {
  return authorization !== undefined && SCHEME.test(authorization.trimStart());
}

/**
 * The access token of an Authorization header. Undefined when there is none (no header, or another
 * scheme such as Basic: RFC 6750 §3.1 says to answer without an error code); invalid_request when the
 * Bearer / DPoP header is malformed. Tokens in the query or the body (RFC 6750 §2.2-2.3) are not read.
 */
export function readCredentials(authorization: string | undefined, ctx: ChallengeContext): Credentials | undefined {
  if (authorization === undefined) return undefined;
  const header = authorization.trim();
  const match = SCHEME.exec(header);
  if (!match) return undefined;
  const scheme: TokenScheme = (match[1] as string).toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
  const token = header.slice((match[1] as string).length).trim();
  if (token === '') throw invalidRequest(ctx, scheme, `The ${scheme} authorization header has no token`);
  if (!TOKEN68.test(token)) throw invalidRequest(ctx, scheme, `The ${scheme} authorization header is malformed`);
  return { scheme, token };
}
