import * as client from 'openid-client';
import type { ResolvedConfig } from '../config/resolved-config.js';
import type { LoginDpop } from '../tokens/dpop-keys.js';
import { OidcError } from '../errors.js';
import { verifyIdTokenSignature } from '../tokens/id-token.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import type { AuthenticatedSession, LoginTransaction } from '../session/session-data.js';
import { shownErrorCode, toIdpError } from '../idp/upstream-error.js';
import { userinfoExtras } from '../session/user.js';

const MAX_CALLBACK_LENGTH = 8192;
/** Errors by which the IdP reports its own failure, not a refusal of the user. */
const IDP_FAILURES = new Set(['server_error', 'temporarily_unavailable']);
/** Implicit / hybrid / JARM parameters: in a code flow callback they can only be an injection attempt. */
const INJECTED_RESPONSE_PARAMS = ['id_token', 'access_token', 'token', 'response'];
const SINGLE_VALUED = ['state', 'code', 'iss', 'error', 'error_description', 'error_uri', 'session_state'];

function invalidCallback(message: string): OidcError {
  return new OidcError('ERR_OIDC_INVALID_CALLBACK', message);
}

/**
 * Parses the authorization response and returns its `state`. Everything that can be judged from the
 * browser's request alone is judged here, before any transaction is looked up or the IdP is called.
 */
export function parseCallbackParams(raw: string): { params: URLSearchParams; state: string } {
  if (raw.length > MAX_CALLBACK_LENGTH) throw invalidCallback('The callback parameters are too large');
  const params = new URLSearchParams(raw);
  for (const name of SINGLE_VALUED) {
    if (params.getAll(name).length > 1) throw invalidCallback(`The callback parameter "${name}" is repeated`);
  }
  for (const name of INJECTED_RESPONSE_PARAMS) {
    if (params.has(name)) throw invalidCallback(`The callback carries "${name}", which a code flow response never has`);
  }
  const state = params.get('state');
  if (!state) throw invalidCallback('The callback has no "state" parameter');
  return { params, state };
}

/** RFC 9207 and the IdP's error answer, judged against the transaction's provider before any token call. */
function checkAuthorizationResponse(provider: DiscoveredProvider, params: URLSearchParams): void {
  const iss = params.get('iss');
  const server = provider.metadata;
  if (iss !== null && iss !== provider.issuer) throw invalidCallback('The callback "iss" does not match the issuer of this login');
  if (iss === null && server.authorization_response_iss_parameter_supported === true) {
    throw invalidCallback('The callback has no "iss" although the IdP promises one (RFC 9207)');
  }
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description');
    const shown = shownErrorCode(error);
    if (IDP_FAILURES.has(error)) {
      throw new OidcError('ERR_OIDC_IDP_ERROR', `The IdP could not complete the login (${shown})`, {
        idpError: error,
        ...(description !== null ? { idpErrorDescription: description } : {}),
      });
    }
    throw new OidcError('ERR_OIDC_ACCESS_DENIED', `The IdP refused the login (${shown})`, {
      idpError: error,
      ...(description !== null ? { idpErrorDescription: description } : {}),
    });
  }
  if (!params.get('code')) throw invalidCallback('The callback has no "code" parameter');
}

/**
 * Completes the code grant for a transaction: token request with the configured redirect_uri (never
 * one derived from the request's Host), ID token claims (openid-client) and signature (ours), then
 * userinfo with the subject checked.
 */
export interface CallbackResult {
  auth: AuthenticatedSession;
  claims: Record<string, unknown>;
  userinfo: Record<string, unknown> | undefined;
}

export async function completeCallback(
  cfg: ResolvedConfig,
  provider: DiscoveredProvider,
  params: URLSearchParams,
  state: string,
  tx: LoginTransaction,
  dpop?: LoginDpop,
): Promise<CallbackResult> {
  checkAuthorizationResponse(provider, params);
  const currentUrl = new URL(provider.settings.redirectUri);
  currentUrl.search = params.toString();
  let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
  try {
    tokens = await client.authorizationCodeGrant(provider.config, currentUrl, {
      pkceCodeVerifier: tx.codeVerifier,
      expectedState: state,
      expectedNonce: tx.nonce,
      idTokenExpected: true,
      ...(tx.maxAge !== undefined ? { maxAge: tx.maxAge } : {}),
    }, undefined, dpop?.options);
  } catch (err) {
    throw toIdpError(err, 'token');
  }
  // An IdP without DPoP ignores the proof and issues a Bearer token: that token is then used as Bearer.
  const bound = tokens.token_type?.toLowerCase() === 'dpop';
  if (dpop && !bound) cfg.logger.warn('oidc-session: the IdP ignored DPoP and issued a Bearer token', { provider: provider.settings.id });
  const idToken = tokens.id_token;
  const claims = tokens.claims();
  if (!idToken || !claims) throw new OidcError('ERR_OIDC_INVALID_ID_TOKEN', 'The token response has no ID token');
  const now = cfg.clock();
  await verifyIdTokenSignature(provider, idToken, now, cfg.clockToleranceSec);
  if (tx.acrValues && !(typeof claims.acr === 'string' && tx.acrValues.includes(claims.acr))) {
    throw new OidcError('ERR_OIDC_STEP_UP_FAILED', 'The IdP did not authenticate the user at the requested level (acr)');
  }

  let userinfo: Record<string, unknown> | undefined;
  if (cfg.fetchUserinfo && provider.metadata.userinfo_endpoint) {
    try {
      userinfo = await client.fetchUserInfo(provider.config, tokens.access_token, claims.sub, bound ? dpop?.options : undefined);
    } catch (err) {
      throw toIdpError(err, 'userinfo');
    }
  }
  const expiresIn = tokens.expiresIn();
  const extras = userinfo ? userinfoExtras(claims, userinfo) : undefined;
  const auth: AuthenticatedSession = {
    provider: provider.settings.id,
    iss: claims.iss,
    sub: claims.sub,
    ...(typeof claims.sid === 'string' ? { sid: claims.sid } : {}),
    idToken,
    accessToken: tokens.access_token,
    ...(tokens.token_type && tokens.token_type.toLowerCase() !== 'bearer' ? { tokenType: tokens.token_type } : {}),
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(expiresIn !== undefined ? { expiresAt: Math.floor(now / 1000) + expiresIn } : {}),
    ...(tokens.scope ? { scope: tokens.scope } : {}),
    ...(extras ? { userinfo: extras } : {}),
    ...(dpop?.sessionKey && bound ? { dpopKey: dpop.sessionKey } : {}),
    authenticatedAt: Math.floor(now / 1000),
  };
  return { auth, claims: { ...claims }, userinfo };
}
