import { Configuration } from 'openid-client';
import type { ResolvedConfig, ResolvedProvider } from './resolved-config.js';
import { ASYMMETRIC_ALGS, invalidFor, optionalBoolean, optionalString, parseUrl, requireHttps, stringRecord } from './validators.js';
import type { OidcOptions, ProviderOptions } from './options.js';
import { assertRequestObjectSupported, resolveRequestObject } from './request-object.js';

const CLIENT_AUTH_METHODS = new Set<string>(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
export const PROVIDER_OPTIONS = [
  'issuer', 'clientId', 'clientSecret', 'config', 'clientAuthMethod', 'idTokenSigningAlg', 'scope',
  'authorizationParams', 'privateKey', 'responseMode', 'pushedAuthorizationRequests', 'resources', 'requestObject',
] as const;

const invalid = invalidFor('oidc()');

/** RFC 8707 §2: absolute URIs without a fragment. */
function resourceList(value: unknown, name: string, params: Record<string, string>): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value) || value.length === 0 || value.length > 20) throw invalid(`"${name}" must be an array of 1 to 20 resource URIs`);
  for (const entry of value) {
    let ok = typeof entry === 'string' && !entry.includes('#') && !/\s/.test(entry);
    try {
      if (ok) new URL(entry as string);
    } catch {
      ok = false;
    }
    if (!ok) throw invalid(`"${name}" entries must be absolute URIs without a fragment (got ${JSON.stringify(entry)})`);
  }
  if (params.resource !== undefined) throw invalid(`"${name}" and "authorizationParams.resource" cannot both be set; list every resource in "${name}"`);
  return Object.freeze([...new Set(value as string[])]);
}

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
  const authorizationParams = stringRecord(invalid, options.authorizationParams, at('authorizationParams'));
  const resources = resourceList(options.resources, at('resources'), authorizationParams);
  const pushed = optionalBoolean(invalid, options.pushedAuthorizationRequests, at('pushedAuthorizationRequests'), false);
  const requestObject = resolveRequestObject(options.requestObject, at('requestObject'));
  // With a Configuration the IdP's metadata is known now: refuse at construction, not at the first login.
  if (requestObject && config) assertRequestObjectSupported(requestObject, config.serverMetadata(), pushed, at('requestObject'));
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
    authorizationParams: Object.freeze(authorizationParams),
    responseMode,
    pushedAuthorizationRequests: pushed,
    requestObject,
    resources,
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

