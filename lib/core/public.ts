// What every entry point (oidc-session, /express, /koa) exports alike, so the lists cannot drift apart.
export { OidcError, isOidcError, ERROR_STATUS } from './errors.js';
export type { OidcErrorCode, OidcErrorOptions } from './errors.js';
export type {
  OidcOptions, ProviderOptions, NamedProviderOptions, RouteOptions, Logger, Clock, ClientAuthMethod, TokenSet, LoginEvent,
  LogoutEvent, RefreshEvent,
} from './options.js';
export type { OidcUser } from './user.js';
export type { OidcSessionData, AuthenticatedSession, ResourceToken } from './session-data.js';
export type { AccessTokenOptions } from './login-context.js';
export type { RefreshLock } from './lock.js';
export type { SessionIndex, SessionOwner } from './session-index.js';
export { MemoryLock } from './lock.js';
export { MemorySessionIndex } from './session-index.js';
export type { LoginOptions, LogoutOptions } from './app-login.js';
export type { AuthInfo, BearerOptions, BearerGuardOptions, BearerVerifyOptions, DpopOptions, IntrospectionOptions, TokenScheme } from './bearer/index.js';
export type { StandardClaims, AddressClaim, IdTokenClaims, UserinfoClaims } from './claims.js';
export type { SessionInfo, SessionQuery, SessionsApi, LogoutEverywhereOptions, LogoutEverywhereResult } from './user-sessions.js';
export type { BoundAccessToken } from './bound-token.js';
export type { DpopOption } from './dpop-keys.js';
export type { RequestObjectOptions } from './request-object.js';
