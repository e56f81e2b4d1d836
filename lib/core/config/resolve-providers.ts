import { Configuration } from 'openid-client';
import type { ResolvedConfig, ResolvedProvider } from './resolved-config.js';
import { ASYMMETRIC_ALGS, invalidFor, optionalBoolean, optionalString, parseUrl, requireHttps, stringRecord } from './validators.js';
import type { OidcOptions, ProviderOptions } from './options.js';

const CLIENT_AUTH_METHODS = new Set<string>(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
export const PROVIDER_OPTIONS = [
  'issuer', 'clientId', 'clientSecret', 'config', 'clientAuthMethod', 'idTokenSigningAlg', 'scope',
  'authorizationParams', 'privateKey', 'responseMode', 'pushedAuthorizationRequests',
] as const;

const invalid = invalidFor('oidc()');

interface ProviderContext {
  id: string;
  /** Prefix for option names in messages: '' or 'providers[1].' */
  label: string;
  baseUrl: URL;
  callbackPath: string;
  backchannelPath: string;
  allowInsecure: boolean;
}

function resolveProvider(options: ProviderOptions, ctx: ProviderContext): ResolvedProvider {
  const at = (name: string): string => ctx.label + name;
  const clientId = optionalString(invalid, options.clientId, at('clientId'));
  if (!clientId) throw invalid(`"${at('clientId')}" is required`);
  const clientSecret = optionalString(invalid, options.clientSecret, at('clientSecret'));
  const config = options.config;
  if (config !== undefined && !(config instanceof Configuration)) {
    throw invalid(`"${at('config')}" must be an openid-client Configuration`);
  }
  let issuer: string | undefined;
  if (config === undefined) {
    const issuerUrl = parseUrl(invalid, options.issuer, at('issuer'));
    if (issuerUrl.pathname.includes('/.well-known/')) {
      throw invalid(`"${at('issuer')}" must be the issuer URL, not its .well-known discovery document`);
    }
    requireHttps(invalid, issuerUrl, at('issuer'), ctx.allowInsecure);
    issuer = options.issuer;
  } else if (options.issuer !== undefined) {
    throw invalid(`pass either "${at('issuer')}" or "${at('config')}", not both`);
  }
  const method = options.clientAuthMethod ?? (clientSecret ? 'client_secret_basic' : options.privateKey ? 'private_key_jwt' : 'none');
  if (!CLIENT_AUTH_METHODS.has(method)) {
    throw invalid(`"${at('clientAuthMethod')}" must be one of ${[...CLIENT_AUTH_METHODS].join(', ')}`);
  }
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && !clientSecret) {
    throw invalid(`"${at('clientSecret')}" is required with clientAuthMethod "${method}"`);
  }
  const privateKey = options.privateKey;
  if (method === 'private_key_jwt' && !(typeof privateKey === 'string' || (typeof privateKey === 'object' && privateKey !== null))) {
    throw invalid(`"${at('privateKey')}" (a JWK object or a PKCS#8 PEM string) is required with clientAuthMethod "private_key_jwt"`);
  }
  const alg = options.idTokenSigningAlg ?? 'RS256';
  if (!ASYMMETRIC_ALGS.includes(alg)) {
    throw invalid(`"${at('idTokenSigningAlg')}" must be an asymmetric JWS algorithm (${ASYMMETRIC_ALGS.join(', ')})`);
  }
  const scope = optionalString(invalid, options.scope, at('scope')) ?? 'openid profile email';
  if (!scope.split(' ').includes('openid')) throw invalid(`"${at('scope')}" must include "openid"`);
  const responseMode = options.responseMode ?? 'query';
  if (responseMode !== 'query' && responseMode !== 'form_post') throw invalid(`"${at('responseMode')}" must be "query" or "form_post"`);
  const redirect = new URL(ctx.baseUrl.href);
  redirect.pathname = ctx.baseUrl.pathname.replace(/\/$/, '') + ctx.callbackPath;
  return Object.freeze({
    id: ctx.id,
    issuer,
    clientId,
    clientSecret,
    config,
    clientAuthMethod: method,
    privateKey,
    idTokenSigningAlg: alg,
    scope,
    authorizationParams: Object.freeze(stringRecord(invalid, options.authorizationParams, at('authorizationParams'))),
    responseMode,
    pushedAuthorizationRequests: optionalBoolean(invalid, options.pushedAuthorizationRequests, at('pushedAuthorizationRequests'), false),
    redirectUri: redirect.href,
    callbackPath: ctx.callbackPath,
    backchannelPath: ctx.backchannelPath,
    allowInsecureRequests: ctx.allowInsecure,
  });
}

export function resolveProviders(options: OidcOptions, baseUrl: URL, routes: ResolvedConfig['routes'], allowInsecure: boolean): ResolvedProvider[] {
  const shared: ProviderOptions = {} as ProviderOptions;
  for (const key of PROVIDER_OPTIONS) {
    if (options[key] !== undefined) (shared as unknown as Record<string, unknown>)[key] = options[key];
  }
  if (options.providers === undefined) {
    return [resolveProvider(shared, { id: 'default', label: '', baseUrl, callbackPath: routes.callback, backchannelPath: routes.backchannelLogout, allowInsecure })];
  }
  if (!Array.isArray(options.providers) || options.providers.length === 0) throw invalid('"providers" must be a non-empty array');
  for (const key of ['issuer', 'clientId', 'clientSecret', 'config'] as const) {
    if (options[key] !== undefined) throw invalid(`"${key}" goes inside each entry of "providers" when "providers" is used`);
  }
  const seen = new Set<string>();
  return options.providers.map((entry, index) => {
    const label = `providers[${index}].`;
    if (typeof entry !== 'object' || entry === null) throw invalid(`"providers[${index}]" must be an object`);
    const { id, ...rest } = entry;
    if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw invalid(`"${label}id" must be letters, digits, "-" or "_"`);
    if (seen.has(id)) throw invalid(`"${label}id" "${id}" is used twice`);
    seen.add(id);
    for (const key of Object.keys(rest)) {
      if (!(PROVIDER_OPTIONS as readonly string[]).includes(key)) throw invalid(`unknown option "${label}${key}"`);
    }
    const merged = { ...shared, ...rest } as ProviderOptions;
    return resolveProvider(merged, {
      id,
      label,
      baseUrl,
      callbackPath: `${routes.callback.replace(/\/$/, '')}/${id}`,
      backchannelPath: `${routes.backchannelLogout.replace(/\/$/, '')}/${id}`,
      allowInsecure,
    });
  });
}

