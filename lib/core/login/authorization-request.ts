import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import type { DiscoveredProvider } from '../idp/provider-client.js';
import type { LoginTransaction } from '../session/session-data.js';
import { toIdpError } from '../idp/upstream-error.js';

const MAX_LOGIN_PARAM_LENGTH = 512;

export interface LoginRequest {
  url: URL;
  state: string;
  transaction: LoginTransaction;
}

export interface LoginInput {
  returnTo: string;
  /** Already allow-listed authorization parameters (prompt, login_hint, ...). */
  params?: Record<string, string>;
  silent?: boolean;
}

/** Picks the query parameters `/login` may forward; anything else is ignored, oversize values refused. */
export function allowedLoginParams(query: URLSearchParams, allowed: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of allowed) {
    const values = query.getAll(name);
    if (values.length === 0) continue;
    const value = values[0] as string;
    if (values.length > 1 || value.length > MAX_LOGIN_PARAM_LENGTH) {
      throw new OidcError('ERR_OIDC_INVALID_CALLBACK', `The login parameter "${name}" is repeated or too long`);
    }
    out[name] = value;
  }
  return out;
}

async function authorizationUrl(provider: DiscoveredProvider, record: Record<string, string>): Promise<URL> {
  let params = new URLSearchParams(record);
  // RFC 8707: one `resource` parameter per API; a Record could hold only one.
  for (const resource of provider.settings.resources) params.append('resource', resource);
  // JAR (RFC 9101): every parameter goes into the signed request object; only client_id and request stay.
  if (provider.requestObjectKey) params = (await client.buildAuthorizationUrlWithJAR(provider.config, params, provider.requestObjectKey)).searchParams;
  if (!provider.settings.pushedAuthorizationRequests) return client.buildAuthorizationUrl(provider.config, params);
  try {
    return await client.buildAuthorizationUrlWithPAR(provider.config, params);
  } catch (err) {
    throw toIdpError(err, 'par');
  }
}

/**
 * RFC 7636's S256 challenge. node:crypto's hash, not openid-client's calculatePKCECodeChallenge(): that
 * one goes through WebCrypto's digest, about 55 µs of CPU per login against 7 µs (BENCHMARKS.md).
 */
export function pkceChallenge(codeVerifier: string): string {
  return createHash('sha256').update(codeVerifier, 'ascii').digest('base64url');
}

/** Builds the authorization URL (code flow, state, nonce, PKCE S256) and the transaction to keep. */
export async function createLoginRequest(cfg: ResolvedConfig, provider: DiscoveredProvider, input: LoginInput): Promise<LoginRequest> {
  const { settings } = provider;
  const state = client.randomState();
  const nonce = client.randomNonce();
  const codeVerifier = client.randomPKCECodeVerifier();
  const codeChallenge = pkceChallenge(codeVerifier);
  const params: Record<string, string> = {
    scope: settings.scope,
    ...settings.authorizationParams,
    ...input.params,
    response_type: 'code',
    client_id: settings.clientId,
    redirect_uri: settings.redirectUri,
    state,
    nonce,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    ...(settings.responseMode === 'form_post' ? { response_mode: 'form_post' } : {}),
  };
  const url = await authorizationUrl(provider, params);
  const maxAge = params.max_age === undefined ? undefined : Number(params.max_age);
  const acrValues = params.acr_values?.split(' ').filter(Boolean);
  const transaction: LoginTransaction = {
    provider: settings.id,
    nonce,
    codeVerifier,
    returnTo: input.returnTo,
    createdAt: Math.floor(cfg.clock() / 1000),
    ...(maxAge !== undefined && Number.isInteger(maxAge) && maxAge >= 0 ? { maxAge } : {}),
    ...(acrValues?.length ? { acrValues } : {}),
    ...(input.silent ? { silent: true } : {}),
  };
  return { url, state, transaction };
}
