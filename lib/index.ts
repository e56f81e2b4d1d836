export { OidcError, isOidcError, ERROR_STATUS } from './core/errors.js';
export type { OidcErrorCode, OidcErrorOptions } from './core/errors.js';
export type { OidcOptions, ProviderOptions, RouteOptions, Logger, Clock, ClientAuthMethod } from './core/options.js';
export type { OidcUser } from './core/user.js';
export type { OidcSessionData, AuthenticatedSession, LoginTransaction, SessionPort } from './core/session-data.js';
export { safeReturnTo } from './core/return-to.js';
export type { AuthInfo, BearerOptions, BearerGuardOptions, DpopOptions, IntrospectionOptions } from './core/bearer/index.js';
