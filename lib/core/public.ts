// What every entry point (oidc-session, /express, /koa) exports alike, so the lists cannot drift apart.
export { OidcError, isOidcError, ERROR_STATUS } from './errors.js';
export type { OidcErrorCode, OidcErrorOptions } from './errors.js';
export type {
  OidcOptions, ProviderOptions, NamedProviderOptions, RouteOptions, Logger, Clock, ClientAuthMethod, TokenSet, LoginEvent,
  LogoutEvent, RefreshEvent,
} from './config/options.js';
export type { OidcUser } from './session/user.js';
export type { OidcSessionData, AuthenticatedSession, ResourceToken } from './session/session-data.js';
export type { AccessTokenOptions } from './login-context.js';
export type { RefreshLock, TtlLock } from './stores/lock.js';
export type { SessionIndex, SessionOwner } from './stores/session-index.js';
export { MemoryLock } from './stores/lock.js';
export { MemorySessionIndex } from './stores/session-index.js';
export type { LoginOptions, LogoutOptions } from './login/app-login.js';
export type { AuthInfo, BearerOptions, BearerGuardOptions, BearerVerifyOptions, DpopOptions, IntrospectionOptions, TokenScheme } from './bearer/index.js';
export type { StandardClaims, AddressClaim, IdTokenClaims, UserinfoClaims } from './config/claims.js';
export type { SessionInfo, SessionQuery, SessionsApi, LogoutEverywhereOptions, LogoutEverywhereResult } from './logout/user-sessions.js';
export type { BoundAccessToken } from './tokens/bound-token.js';
export type { DpopOption } from './tokens/dpop-keys.js';
export type { RequestObjectOptions } from './config/options.js';
