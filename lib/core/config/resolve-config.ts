import {
  claimPath, injectedFetchAndClock, invalidFor, lockOption, numberInRange, optionalBoolean, optionalFunction, optionalString, parseUrl,
  PROTECTED_AUTHORIZATION_PARAMS, requireHttps, resolveLogger, routePath,
} from './validators.js';
import { resolveDpop } from './dpop-option.js';
import { eocReplacement, MIGRATION_GUIDE } from './eoc-options.js';
import { MemoryLock } from '../stores/lock.js';
import type { OidcOptions } from './options.js';
import { PROVIDER_OPTIONS, resolveProviders } from './resolve-providers.js';
import type { ResolvedConfig } from './resolved-config.js';
import { MemorySessionIndex } from '../stores/session-index.js';
import { httpFetch } from '../idp/http-fetch.js';

const KNOWN_OPTIONS = new Set<string>([
  ...PROVIDER_OPTIONS, 'providers', 'baseUrl', 'routes', 'idpLogout', 'httpTimeout', 'allowInsecureRequests',
  'clockTolerance', 'jwksCooldown', 'transactionTtl', 'maxTransactions', 'maxResourceTokens', 'sessionKey', 'fetchUserinfo',
  'loginParams', 'absoluteDuration', 'customFetch', 'clock', 'logger', 'autoRefresh', 'dpop', 'lock', 'sessionIndex',
  'backchannelLogout', 'revokeTokens', 'keepSessionData', 'rolesClaim', 'attemptSilentLogin', 'onLogin',
  'onLogout', 'onRefresh', 'onError',
]);
const KNOWN_ROUTES = new Set(['login', 'callback', 'logout', 'postLogoutRedirect', 'backchannelLogout']);

const invalid = invalidFor('oidc()');

/** Validates the options once, at construction; every mistake names the option. */
export function resolveConfig(options: OidcOptions): ResolvedConfig {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  for (const key of Object.keys(options)) {
    if (KNOWN_OPTIONS.has(key)) continue;
    const replacement = eocReplacement(key);
    if (replacement) throw invalid(`"${key}" is an express-openid-connect option: ${replacement} (see ${MIGRATION_GUIDE})`);
    throw invalid(`unknown option "${key}"`);
  }
  const baseUrl = parseUrl(invalid, options.baseUrl, 'baseUrl');
  const routes = options.routes ?? {};
  if (typeof routes !== 'object' || routes === null) throw invalid('"routes" must be an object');
  for (const key of Object.keys(routes)) {
    if (!KNOWN_ROUTES.has(key)) throw invalid(`unknown option "routes.${key}"`);
  }
  const resolvedRoutes = Object.freeze({
    login: routePath(invalid, routes.login, 'login', '/login'),
    callback: routePath(invalid, routes.callback, 'callback', '/callback'),
    logout: routePath(invalid, routes.logout, 'logout', '/logout'),
    postLogoutRedirect: routePath(invalid, routes.postLogoutRedirect, 'postLogoutRedirect', '/'),
    backchannelLogout: routePath(invalid, routes.backchannelLogout, 'backchannelLogout', '/backchannel-logout'),
  });
  const allowInsecure = optionalBoolean(invalid, options.allowInsecureRequests, 'allowInsecureRequests', false);
  requireHttps(invalid, baseUrl, 'baseUrl', allowInsecure);
  const providers = resolveProviders(options, baseUrl, resolvedRoutes, allowInsecure);
  injectedFetchAndClock(invalid, options);
  const loginParams = options.loginParams ?? [];
  if (!Array.isArray(loginParams) || loginParams.some((p) => typeof p !== 'string' || PROTECTED_AUTHORIZATION_PARAMS.has(p))) {
    throw invalid('"loginParams" must be an array of parameter names other than the ones the library sets');
  }
  const sessionKey = optionalString(invalid, options.sessionKey, 'sessionKey') ?? 'oidc';
  const clock = options.clock ?? Date.now;
  const lock = lockOption(invalid, options.lock) ?? new MemoryLock(clock);
  const sessionIndex = options.sessionIndex ?? new MemorySessionIndex(clock);
  for (const method of ['add', 'find', 'remove'] as const) {
    if (typeof sessionIndex[method] !== 'function') throw invalid(`"sessionIndex.${method}" must be a function`);
  }
  const keepSessionData = options.keepSessionData ?? false;
  if (typeof keepSessionData !== 'boolean' && !(Array.isArray(keepSessionData) && keepSessionData.every((k) => typeof k === 'string' && k !== sessionKey))) {
    throw invalid('"keepSessionData" must be true, false or an array of session keys');
  }
  optionalFunction(invalid, (options as { onError?: unknown }).onError, 'onError');
  return Object.freeze({
    baseUrl,
    origin: baseUrl.origin,
    providers: Object.freeze(providers),
    multiProvider: options.providers !== undefined,
    routes: resolvedRoutes,
    idpLogout: optionalBoolean(invalid, options.idpLogout, 'idpLogout', false),
    httpTimeoutMs: numberInRange(invalid, options.httpTimeout, 'httpTimeout', 5000, 100, 120_000),
    clockToleranceSec: numberInRange(invalid, options.clockTolerance, 'clockTolerance', 60, 0, 300),
    jwksCooldownSec: numberInRange(invalid, options.jwksCooldown, 'jwksCooldown', 30, 0, 600),
    transactionTtlSec: numberInRange(invalid, options.transactionTtl, 'transactionTtl', 600, 10, 86_400),
    maxTransactions: numberInRange(invalid, options.maxTransactions, 'maxTransactions', 5, 1, 50),
    maxResourceTokens: numberInRange(invalid, options.maxResourceTokens, 'maxResourceTokens', 10, 1, 50),
    sessionKey,
    fetchUserinfo: optionalBoolean(invalid, options.fetchUserinfo, 'fetchUserinfo', true),
    loginParams: new Set(['prompt', 'login_hint', 'ui_locales', ...loginParams]),
    absoluteDurationSec: numberInRange(invalid, options.absoluteDuration, 'absoluteDuration', 7 * 86_400, 60, 366 * 86_400),
    customFetch: options.customFetch ?? httpFetch(),
    clock,
    logger: resolveLogger(invalid, options.logger),
    autoRefresh: optionalBoolean(invalid, options.autoRefresh, 'autoRefresh', true),
    dpop: resolveDpop(options.dpop),
    lock,
    sessionIndex,
    backchannelLogout: optionalBoolean(invalid, options.backchannelLogout, 'backchannelLogout', false),
    revokeTokens: optionalBoolean(invalid, options.revokeTokens, 'revokeTokens', true),
    keepSessionData: Array.isArray(keepSessionData) ? Object.freeze([...keepSessionData]) : keepSessionData,
    rolesClaim: claimPath(invalid, options.rolesClaim ?? 'roles', 'rolesClaim'),
    attemptSilentLogin: optionalBoolean(invalid, options.attemptSilentLogin, 'attemptSilentLogin', false),
    onLogin: optionalFunction<ResolvedConfig['onLogin']>(invalid, options.onLogin, 'onLogin'),
    onLogout: optionalFunction<ResolvedConfig['onLogout']>(invalid, options.onLogout, 'onLogout'),
    onRefresh: optionalFunction<ResolvedConfig['onRefresh']>(invalid, options.onRefresh, 'onRefresh'),
  });
}
