import { Configuration } from 'openid-client';
import { OidcError } from './errors.js';
import { MemoryLock } from './lock.js';
import type { RefreshLock } from './lock.js';
import type { ClientAuthMethod, Clock, Logger, LoginEvent, LogoutEvent, OidcOptions, ProviderOptions, RefreshEvent } from './options.js';
import { MemorySessionIndex } from './session-index.js';
import type { SessionIndex } from './session-index.js';

export interface ResolvedProvider {
  readonly id: string;
  readonly issuer: string | undefined;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly config: Configuration | undefined;
  readonly clientAuthMethod: ClientAuthMethod;
  readonly privateKey: Record<string, unknown> | string | undefined;
  readonly idTokenSigningAlg: string;
  readonly scope: string;
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly responseMode: 'query' | 'form_post';
  readonly pushedAuthorizationRequests: boolean;
  /** Absolute redirect_uri registered at the IdP. */
  readonly redirectUri: string;
  /** Path (relative to where the middleware is mounted) that receives the callback. */
  readonly callbackPath: string;
  /** Path of this provider's back-channel logout endpoint. */
  readonly backchannelPath: string;
  readonly allowInsecureRequests: boolean;
}

export interface ResolvedConfig {
  readonly baseUrl: URL;
  readonly origin: string;
  readonly providers: readonly ResolvedProvider[];
  readonly multiProvider: boolean;
  readonly routes: {
    readonly login: string;
    readonly callback: string;
    readonly logout: string;
    readonly postLogoutRedirect: string;
    readonly backchannelLogout: string;
  };
  readonly idpLogout: boolean;
  readonly httpTimeoutMs: number;
  readonly clockToleranceSec: number;
  readonly jwksCooldownSec: number;
  readonly transactionTtlSec: number;
  readonly maxTransactions: number;
  readonly sessionKey: string;
  readonly fetchUserinfo: boolean;
  readonly loginParams: ReadonlySet<string>;
  readonly absoluteDurationSec: number;
  readonly customFetch: typeof fetch | undefined;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly autoRefresh: boolean;
  readonly lock: RefreshLock;
  readonly sessionIndex: SessionIndex;
  readonly backchannelLogout: boolean;
  readonly revokeTokens: boolean;
  readonly keepSessionData: boolean | readonly string[];
  readonly rolesClaim: string | readonly string[];
  readonly attemptSilentLogin: boolean;
  readonly onLogin: ((event: LoginEvent) => unknown) | undefined;
  readonly onLogout: ((event: LogoutEvent) => unknown) | undefined;
  readonly onRefresh: ((event: RefreshEvent) => unknown) | undefined;
}

const PROVIDER_OPTIONS = [
  'issuer', 'clientId', 'clientSecret', 'config', 'clientAuthMethod', 'idTokenSigningAlg', 'scope',
  'authorizationParams', 'privateKey', 'responseMode', 'pushedAuthorizationRequests',
] as const;
const KNOWN_OPTIONS = new Set<string>([
  ...PROVIDER_OPTIONS, 'providers', 'baseUrl', 'routes', 'idpLogout', 'httpTimeout', 'allowInsecureRequests',
  'clockTolerance', 'jwksCooldown', 'transactionTtl', 'maxTransactions', 'sessionKey', 'fetchUserinfo',
  'loginParams', 'absoluteDuration', 'customFetch', 'clock', 'logger', 'autoRefresh', 'lock', 'sessionIndex',
  'backchannelLogout', 'revokeTokens', 'keepSessionData', 'rolesClaim', 'attemptSilentLogin', 'onLogin',
  'onLogout', 'onRefresh', 'onError',
]);
const KNOWN_ROUTES = new Set(['login', 'callback', 'logout', 'postLogoutRedirect', 'backchannelLogout']);
const CLIENT_AUTH_METHODS = new Set<string>(['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none']);
const SIGNING_ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519']);
/** Parameters the library owns; an app may never override them. */
export const PROTECTED_AUTHORIZATION_PARAMS: ReadonlySet<string> = new Set([
  'client_id', 'redirect_uri', 'response_type', 'response_mode', 'state', 'nonce', 'code_challenge',
  'code_challenge_method', 'request', 'request_uri', 'client_secret',
]);
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const SILENT_LOGGER: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function invalid(message: string): OidcError {
  return new OidcError('ERR_OIDC_INVALID_CONFIG', `oidc(): ${message}`);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw invalid(`"${name}" must be a non-empty string`);
  return value;
}

function numberInRange(value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`"${name}" must be a number from ${min} to ${max}`);
  }
  return value;
}

function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`"${name}" must be true or false`);
  return value;
}

function optionalFunction<T>(value: unknown, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw invalid(`"${name}" must be a function`);
  return value as T;
}

function routePath(value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^\/[A-Za-z0-9\-._~/]*$/.test(value)) {
    throw invalid(`"routes.${name}" must be a path starting with "/"`);
  }
  return value;
}

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

function parseUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string') throw invalid(`"${name}" must be an absolute http(s) URL string`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`"${name}" must be an absolute http(s) URL (got ${JSON.stringify(value)})`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid(`"${name}" must use http or https`);
  if (url.search || url.hash) throw invalid(`"${name}" must not have a query or fragment`);
  return url;
}

function stringRecord(value: unknown, name: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid(`"${name}" must be an object of strings`);
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw invalid(`"${name}.${key}" must be a string`);
    if (PROTECTED_AUTHORIZATION_PARAMS.has(key)) throw invalid(`"${name}.${key}" is set by the library and cannot be overridden`);
    out[key] = entry;
  }
  return out;
}

function resolveLogger(value: unknown): Logger {
  if (value === undefined) return SILENT_LOGGER;
  const logger = value as Partial<Logger>;
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof logger[level] !== 'function') throw invalid(`"logger.${level}" must be a function`);
  }
  return logger as Logger;
}

function claimPath(value: unknown, name: string): string | readonly string[] {
  if (typeof value === 'string' && value.length > 0) return value;
  if (Array.isArray(value) && value.length > 0 && value.every((k) => typeof k === 'string' && k.length > 0)) return Object.freeze([...value]);
  throw invalid(`"${name}" must be a claim name, a dot path or an array of keys`);
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
  const clientId = optionalString(options.clientId, at('clientId'));
  if (!clientId) throw invalid(`"${at('clientId')}" is required`);
  const clientSecret = optionalString(options.clientSecret, at('clientSecret'));
  const config = options.config;
  if (config !== undefined && !(config instanceof Configuration)) {
    throw invalid(`"${at('config')}" must be an openid-client Configuration`);
  }
  let issuer: string | undefined;
  if (config === undefined) {
    const issuerUrl = parseUrl(options.issuer, at('issuer'));
    if (issuerUrl.pathname.includes('/.well-known/')) {
      throw invalid(`"${at('issuer')}" must be the issuer URL, not its .well-known discovery document`);
    }
    if (issuerUrl.protocol === 'http:' && !ctx.allowInsecure && !isLoopbackHost(issuerUrl.hostname)) {
      throw invalid(`"${at('issuer')}" must use https (http is allowed for 127.0.0.1, localhost and ::1, or with "allowInsecureRequests: true")`);
    }
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
  if (!SIGNING_ALGS.has(alg)) {
    throw invalid(`"${at('idTokenSigningAlg')}" must be an asymmetric JWS algorithm (${[...SIGNING_ALGS].join(', ')})`);
  }
  const scope = optionalString(options.scope, at('scope')) ?? 'openid profile email';
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
    authorizationParams: Object.freeze(stringRecord(options.authorizationParams, at('authorizationParams'))),
    responseMode,
    pushedAuthorizationRequests: optionalBoolean(options.pushedAuthorizationRequests, at('pushedAuthorizationRequests'), false),
    redirectUri: redirect.href,
    callbackPath: ctx.callbackPath,
    backchannelPath: ctx.backchannelPath,
    allowInsecureRequests: ctx.allowInsecure,
  });
}

function resolveProviders(options: OidcOptions, baseUrl: URL, routes: ResolvedConfig['routes'], allowInsecure: boolean): ResolvedProvider[] {
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

/** Validates the options once, at construction; every mistake names the option. */
export function resolveConfig(options: OidcOptions): ResolvedConfig {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw invalid(`unknown option "${key}"`);
  }
  const baseUrl = parseUrl(options.baseUrl, 'baseUrl');
  const routes = options.routes ?? {};
  if (typeof routes !== 'object' || routes === null) throw invalid('"routes" must be an object');
  for (const key of Object.keys(routes)) {
    if (!KNOWN_ROUTES.has(key)) throw invalid(`unknown option "routes.${key}"`);
  }
  const resolvedRoutes = Object.freeze({
    login: routePath(routes.login, 'login', '/login'),
    callback: routePath(routes.callback, 'callback', '/callback'),
    logout: routePath(routes.logout, 'logout', '/logout'),
    postLogoutRedirect: routePath(routes.postLogoutRedirect, 'postLogoutRedirect', '/'),
    backchannelLogout: routePath(routes.backchannelLogout, 'backchannelLogout', '/backchannel-logout'),
  });
  const allowInsecure = optionalBoolean(options.allowInsecureRequests, 'allowInsecureRequests', false);
  const providers = resolveProviders(options, baseUrl, resolvedRoutes, allowInsecure);
  if (options.customFetch !== undefined && typeof options.customFetch !== 'function') throw invalid('"customFetch" must be a function');
  if (options.clock !== undefined && typeof options.clock !== 'function') throw invalid('"clock" must be a function returning milliseconds');
  const loginParams = options.loginParams ?? [];
  if (!Array.isArray(loginParams) || loginParams.some((p) => typeof p !== 'string' || PROTECTED_AUTHORIZATION_PARAMS.has(p))) {
    throw invalid('"loginParams" must be an array of parameter names other than the ones the library sets');
  }
  const sessionKey = optionalString(options.sessionKey, 'sessionKey') ?? 'oidc';
  const clock = options.clock ?? Date.now;
  const lock = options.lock ?? new MemoryLock(clock);
  if (typeof lock.acquire !== 'function' || typeof lock.release !== 'function') throw invalid('"lock" must have acquire() and release()');
  const sessionIndex = options.sessionIndex ?? new MemorySessionIndex(clock);
  for (const method of ['add', 'find', 'remove'] as const) {
    if (typeof sessionIndex[method] !== 'function') throw invalid(`"sessionIndex.${method}" must be a function`);
  }
  const keepSessionData = options.keepSessionData ?? false;
  if (typeof keepSessionData !== 'boolean' && !(Array.isArray(keepSessionData) && keepSessionData.every((k) => typeof k === 'string' && k !== sessionKey))) {
    throw invalid('"keepSessionData" must be true, false or an array of session keys');
  }
  optionalFunction((options as { onError?: unknown }).onError, 'onError');
  return Object.freeze({
    baseUrl,
    origin: baseUrl.origin,
    providers: Object.freeze(providers),
    multiProvider: options.providers !== undefined,
    routes: resolvedRoutes,
    idpLogout: optionalBoolean(options.idpLogout, 'idpLogout', false),
    httpTimeoutMs: numberInRange(options.httpTimeout, 'httpTimeout', 5000, 100, 120_000),
    clockToleranceSec: numberInRange(options.clockTolerance, 'clockTolerance', 60, 0, 300),
    jwksCooldownSec: numberInRange(options.jwksCooldown, 'jwksCooldown', 1, 0, 600),
    transactionTtlSec: numberInRange(options.transactionTtl, 'transactionTtl', 600, 10, 86_400),
    maxTransactions: numberInRange(options.maxTransactions, 'maxTransactions', 5, 1, 50),
    sessionKey,
    fetchUserinfo: optionalBoolean(options.fetchUserinfo, 'fetchUserinfo', true),
    loginParams: new Set(['prompt', 'login_hint', 'ui_locales', ...loginParams]),
    absoluteDurationSec: numberInRange(options.absoluteDuration, 'absoluteDuration', 7 * 86_400, 60, 366 * 86_400),
    customFetch: options.customFetch,
    clock,
    logger: resolveLogger(options.logger),
    autoRefresh: optionalBoolean(options.autoRefresh, 'autoRefresh', true),
    lock,
    sessionIndex,
    backchannelLogout: optionalBoolean(options.backchannelLogout, 'backchannelLogout', false),
    revokeTokens: optionalBoolean(options.revokeTokens, 'revokeTokens', true),
    keepSessionData: Array.isArray(keepSessionData) ? Object.freeze([...keepSessionData]) : keepSessionData,
    rolesClaim: claimPath(options.rolesClaim ?? 'roles', 'rolesClaim'),
    attemptSilentLogin: optionalBoolean(options.attemptSilentLogin, 'attemptSilentLogin', false),
    onLogin: optionalFunction<ResolvedConfig['onLogin']>(options.onLogin, 'onLogin'),
    onLogout: optionalFunction<ResolvedConfig['onLogout']>(options.onLogout, 'onLogout'),
    onRefresh: optionalFunction<ResolvedConfig['onRefresh']>(options.onRefresh, 'onRefresh'),
  });
}
