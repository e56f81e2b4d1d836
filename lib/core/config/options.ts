import type { JWK } from 'jose';
import type { Configuration } from 'openid-client';
import type { IdTokenClaims, UserinfoClaims } from './claims.js';
import type { TtlLock } from '../stores/lock.js';
import type { SessionIndex } from '../stores/session-index.js';
import type { OidcUser } from '../session/user.js';
import type { webcrypto } from 'node:crypto';

/** The `dpop` option: true (a key pair per session), or one key pair for the whole app. */
export type DpopOption = boolean | webcrypto.CryptoKeyPair | JWK;

/** The `requestObject` option: sign the authorization request (JAR, RFC 9101). */
export interface RequestObjectOptions {
  /** The client's private key: a CryptoKey, a private JWK, or a PKCS#8 PEM string. */
  key: webcrypto.CryptoKey | JWK | string;
  /** Default: the JWK's `alg`, the CryptoKey's algorithm, or RS256 for a PEM. */
  alg?: string;
}

/** How the client authenticates at the token endpoint. */
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt' | 'none';

/** The tokens of a login, as hooks see them. */
export interface TokenSet {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch seconds. */
  expiresAt?: number;
  scope?: string;
  tokenType?: string;
}

/** What `onLogin` receives. `req` is the framework's request (Express `Request`, Koa `Context`). */
export interface LoginEvent<Req = unknown> {
  /** The verified ID token's claims, protocol claims included. */
  claims: IdTokenClaims;
  /** The userinfo response; undefined with `fetchUserinfo: false`. */
  userinfo: UserinfoClaims | undefined;
  tokens: TokenSet;
  /** The provider id (`default` with a single IdP). */
  provider: string;
  req: Req;
}

/** What `onLogout` receives. */
export interface LogoutEvent<Req = unknown, User = OidcUser> {
  /** The user who logged out; undefined when nobody was logged in. */
  user: User | undefined;
  provider: string | undefined;
  req: Req;
}

/** What `onRefresh` receives. */
export interface RefreshEvent<Req = unknown> {
  /** The claims of the ID token in effect after the refresh. */
  claims: IdTokenClaims;
  tokens: TokenSet;
  provider: string;
  req: Req;
}

/** The IdP-specific part of the options. */
export interface ProviderOptions {
  /** Issuer URL; discovery runs against `{issuer}/.well-known/openid-configuration`. */
  issuer?: string;
  clientId: string;
  /** Omit for a public client (PKCE only). */
  clientSecret?: string;
  /** An openid-client Configuration to use instead of discovery (custom fetch, clock tolerance, tests). */
  config?: Configuration;
  /** Default: `client_secret_basic` with a secret, `none` without. */
  clientAuthMethod?: ClientAuthMethod;
  /** The only algorithm ID tokens may be signed with. Default `RS256`. */
  idTokenSigningAlg?: string;
  /** Default `openid profile email`. */
  scope?: string;
  /** Extra static authorization request parameters (`audience`, `resource`, `acr_values`...). */
  authorizationParams?: Record<string, string>;
  /** For `private_key_jwt`: the client's private key, a JWK (object) or a PKCS#8 PEM string. */
  privateKey?: Record<string, unknown> | string;
  /** `form_post` makes the IdP POST the response to the callback. Default: query. */
  responseMode?: 'query' | 'form_post';
  /** Send the authorization request through PAR (RFC 9126). Default false. */
  pushedAuthorizationRequests?: boolean;
  /**
   * APIs (RFC 8707 resource indicators) asked for at login, each as a `resource` parameter, so that
   * `getAccessToken({ resource })` can later get a token for each with the refresh token. The login's own
   * access token still serves userinfo.
   */
  resources?: string[];
  /**
   * Sign the authorization request (JAR, RFC 9101), with PAR too. Refused when the IdP's metadata does
   * not list the algorithm: at construction with `config`, at discovery otherwise.
   */
  requestObject?: RequestObjectOptions;
}

/** One IdP among several (`providers` option). */
export interface NamedProviderOptions extends ProviderOptions {
  /** Used in `/login?provider=<id>` and the callback route `/callback/<id>`. */
  id: string;
}

/** Paths of the routes the middleware answers, relative to where it is mounted. */
export interface RouteOptions {
  /** Default `/login`. */
  login?: string;
  /** Default `/callback`. */
  callback?: string;
  /** Default `/logout`. */
  logout?: string;
  /** Where the IdP sends the browser after RP-initiated logout, relative to `baseUrl`. Default `/`. */
  postLogoutRedirect?: string;
  /** Default `/backchannel-logout` (only with `backchannelLogout: true`). */
  backchannelLogout?: string;
}

/** Injected clock: milliseconds since the epoch. */
export type Clock = () => number;

/** Where the library reports what happened. Never receives tokens, codes or secrets. */
export interface Logger {
  /** Tracing: every step of a login, refresh and logout. */
  debug(message: string, fields?: Record<string, unknown>): void;
  /** A login, a logout, a back-channel logout. */
  info(message: string, fields?: Record<string, unknown>): void;
  /** Something to fix: an insecure cookie setting, a failed login, a failed revocation. */
  warn(message: string, fields?: Record<string, unknown>): void;
  /** Reserved for failures of the library itself. */
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The options of `oidc()`, validated once when it is called (a mistake throws ERR_OIDC_INVALID_CONFIG
 * naming the option). `Req` is the framework's request handed to the hooks; `User` is what `req.user`
 * is and what `onLogin` must return (see {@link OidcUser} for declaring your own claims).
 */
export interface OidcOptions<Req = unknown, User = OidcUser> extends Partial<ProviderOptions> {
  /** Several IdPs in one app, instead of the top-level issuer/clientId options. */
  providers?: NamedProviderOptions[];
  /** The app's external origin (and optional path prefix); redirect_uri = baseUrl + routes.callback. */
  baseUrl: string;
  routes?: RouteOptions;
  /** Also end the session at the IdP (RP-initiated logout). Default false. */
  idpLogout?: boolean;
  /** Timeout of every HTTP call to the IdP, in milliseconds. Default 5000. */
  httpTimeout?: number;
  /** Allow `http://` issuers that are not loopback. Default false. Development only. */
  allowInsecureRequests?: boolean;
  /** Seconds of clock skew tolerated on token timestamps. Default 60, at most 300. */
  clockTolerance?: number;
  /**
   * Seconds between two JWKS refetches that an unknown `kid` in a back-channel logout token (which anyone
   * can post) may cause; also the pause after an ID token named a key that even a fresh JWKS lacks. An ID
   * token with a new `kid` otherwise refetches at once (key rotation). Default 30, like `requireBearer()`.
   */
  jwksCooldown?: number;
  /** Seconds a pending login (one browser tab) stays valid. Default 600. */
  transactionTtl?: number;
  /** Pending logins kept per session; the oldest is dropped beyond this. Default 5. */
  maxTransactions?: number;
  /** Access tokens for other APIs (`getAccessToken({ resource })`) kept per session; the oldest is dropped beyond this. Default 10. */
  maxResourceTokens?: number;
  /** The key under which the session holds our data. Default `oidc`. */
  sessionKey?: string;
  /** Call the userinfo endpoint at login and merge its claims into the user. Default true. */
  fetchUserinfo?: boolean;
  /** Extra query parameters `/login` may forward to the IdP, besides prompt, login_hint and ui_locales. */
  loginParams?: string[];
  /** Seconds after login when the session ends whatever the activity. Default 7 days. */
  absoluteDuration?: number;
  /**
   * The fetch used for every IdP request. Default: Node's http/https modules over keep-alive connections
   * (less CPU per request than the global fetch). Pass the global `fetch` to use an undici dispatcher of
   * your own (`setGlobalDispatcher()`: a proxy, MockAgent).
   */
  customFetch?: typeof fetch;
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: Clock;
  /**
   * Where warnings and traces go. Default: each distinct warning once through `console.warn`, traces
   * through the `debug` package (`DEBUG=oidc-session:*`). A logger you pass receives everything instead.
   */
  logger?: Logger;
  /**
   * DPoP (RFC 9449) for the session's tokens: the code grant, every refresh and userinfo carry a proof,
   * so the IdP binds the access token to a key. `true`: a new ES256 key pair per session, its private
   * key kept in the session (like the refresh token). A CryptoKeyPair or private JWK: one key for the
   * app, kept out of the session store. Default false.
   */
  dpop?: DpopOption;
  /** Refresh an expired access token in requireAuth() when a refresh token exists. Default true. */
  autoRefresh?: boolean;
  /** Shared lock so one refresh token is redeemed once across instances. Default: in-process. */
  lock?: TtlLock;
  /** (iss, sid) / (iss, sub) -> session ids, for back-channel logout. Default: in-process. */
  sessionIndex?: SessionIndex;
  /** Accept OpenID Connect Back-Channel Logout at `routes.backchannelLogout`. Default false. */
  backchannelLogout?: boolean;
  /** Revoke the refresh and access tokens at logout when the IdP has a revocation endpoint. Default true. */
  revokeTokens?: boolean;
  /**
   * Keep data the app stored in the anonymous session across the login's session regeneration:
   * `true` for every key, or a list of keys. Never kept when a different user was logged in. Default false.
   */
  keepSessionData?: boolean | string[];
  /** The claim (dot path) `requireRoles()` reads. Default `roles`. */
  rolesClaim?: string | string[];
  /** Try `prompt=none` once for anonymous browser visitors. Default false. */
  attemptSilentLogin?: boolean;
  /**
   * Called after a successful callback, before the session is created. Return the user object to keep
   * (it becomes `req.user`; typed as your declared {@link OidcUser}), return nothing to keep the claims,
   * or throw / return false to refuse the login (403, no session).
   */
  onLogin?: (event: LoginEvent<Req>) => User | false | undefined | void | Promise<User | false | undefined | void>;
  /** Called at logout, after the local session is destroyed. */
  onLogout?: (event: LogoutEvent<Req, User>) => void | Promise<void>;
  /** Called after tokens were refreshed. */
  onRefresh?: (event: RefreshEvent<Req>) => void | Promise<void>;
}
