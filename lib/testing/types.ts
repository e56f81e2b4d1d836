import type { CookieJar } from './cookie-jar.js';
import type { TestIdpStore } from './idp-adapter.js';

/**
 * oidc-provider client metadata (snake_case, as registered with the IdP).
 * Only the commonly used members are listed; any other oidc-provider client
 * metadata property is accepted as well.
 */
export interface ClientMetadata {
  client_id: string;
  client_secret?: string;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  /** default ['authorization_code', 'refresh_token'] */
  grant_types?: string[];
  /** default ['code'] */
  response_types?: string[];
  application_type?: 'web' | 'native';
  client_name?: string;
  /** default 'client_secret_basic'; use 'none' for public clients */
  token_endpoint_auth_method?: string;
  id_token_signed_response_alg?: string;
  backchannel_logout_uri?: string;
  /** default true: logout tokens carry `sid` */
  backchannel_logout_session_required?: boolean;
  scope?: string;
  [key: string]: unknown;
}

/** A user of the test IdP: the login form accepts `username` / `password`; `claims` go into the tokens. */
export interface TestIdpUser {
  username: string;
  password: string;
  /** default = username */
  sub?: string;
  /** name, given_name, family_name, preferred_username, email, email_verified, roles, ... */
  claims?: Record<string, unknown>;
}

/** An API (resource indicator) the test IdP issues access tokens for. */
export interface TestIdpResourceServer {
  /** space-delimited scope values this API accepts, e.g. 'api:read api:write' */
  scope: string;
  /** default 'jwt' */
  accessTokenFormat?: 'jwt' | 'opaque';
  /** `aud` of the access token; default = the resource indicator */
  audience?: string;
}

/** A private signing key as a JWK (`kid` and `alg` set), e.g. from a previous IdP's `signingKeys`. */
export interface TestIdpSigningKey {
  kty: string;
  kid: string;
  alg: string;
  use?: 'sig';
  [member: string]: unknown;
}

/** Options of `createTestIdp()`. */
export interface TestIdpOptions {
  clients: ClientMetadata[];
  /**
   * Private signing keys (JWKs with `kid` and `alg`; the first RS256 one signs ID tokens). Default: a new
   * RS256 and ES256 pair per IdP. Pass an IdP's `signingKeys` to a new one to restart it with its keys.
   */
  keys?: TestIdpSigningKey[];
  /**
   * Where the IdP keeps grants, tokens and sessions (`createTestIdpStore()`). Default: a store of its
   * own. The same store given to a new IdP on the same port is a restart with its state: refresh tokens,
   * sessions and pending codes issued before still work.
   */
  store?: TestIdpStore;
  /** default: alice/alice (roles ['admin']) and bob/bob (roles ['user']) */
  users?: TestIdpUser[];
  /** default 0 (random free port) */
  port?: number;
  /** default '127.0.0.1' */
  host?: string;
  /** issuer path prefix, e.g. '/idp'; default none */
  path?: string;
  /** seconds, default 3600 */
  accessTokenTtl?: number;
  /** seconds, default 3600 */
  idTokenTtl?: number;
  /** seconds, default 14 days */
  refreshTokenTtl?: number;
  /** default true: a new refresh token on every refresh_token grant (the old one is consumed) */
  rotateRefreshTokens?: boolean;
  /** default true: issue a refresh token on every code grant even without offline_access (client needs the refresh_token grant type) */
  issueRefreshTokens?: boolean;
  /** resource indicator (RFC 8707) => resource server; access tokens for these are JWTs by default */
  resourceServers?: Record<string, TestIdpResourceServer>;
  /**
   * default true: an authorization request that named resources (RFC 8707) gets an access token for the
   * (first) resource at the code grant. false: the code grant's token is for userinfo, and a token for a
   * resource needs `resource` on a token request (refresh), like IdPs that keep the login token for userinfo.
   */
  useGrantedResource?: boolean;
  /**
   * DPoP (RFC 9449) at the token and userinfo endpoints; default on, as in oidc-provider. `false`: the IdP
   * ignores DPoP proofs and issues Bearer tokens. `{ requireNonce: true }`: every proof must carry a
   * server nonce (the IdP answers use_dpop_nonce with a DPoP-Nonce first).
   */
  dpop?: false | { requireNonce?: boolean };
  /**
   * default off: signed request objects (JAR, RFC 9101) in the `request` parameter and at PAR. Register
   * the client's public key as client metadata `jwks`. `{ requireSigned: true }`: every authorization
   * request must be a signed request object.
   */
  requestObjects?: boolean | { requireSigned?: boolean };
  /** default true: requested scopes/claims/resources are granted without a consent page */
  autoConsent?: boolean;
  /** text on the IdP pages; default 'Test Identity Provider' */
  title?: string;
  /**
   * Claims released at the userinfo endpoint only, never in ID tokens (as many real IdPs do with
   * `email` or `picture`); default none: every claim the scopes allow is in both.
   */
  userinfoOnlyClaims?: string[];
}

/** The endpoints whose requests `TestIdp.counters` counts. */
export type IdpEndpoint =
  | 'discovery'
  | 'jwks'
  | 'authorization'
  | 'token'
  | 'userinfo'
  | 'end_session'
  | 'revocation'
  | 'introspection'
  | 'backchannel';

/** Where the IdP sends the browser back: a redirect (GET) or an auto-submitted form (POST). */
export type IdpReturn =
  | { method: 'GET'; url: string }
  | { method: 'POST'; url: string; body: URLSearchParams };

/** The part of the oidc-provider instance that is typed without oidc-provider's types. */
export interface TestIdpProvider {
  readonly issuer: string;
  /** Listens to an oidc-provider event (`backchannel.success`, `server_error`...). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- oidc-provider passes event-specific arguments
  on(event: string, listener: (...args: any[]) => void): unknown;
}

/** A running test IdP, as `createTestIdp()` returns it. */
export interface TestIdp {
  /** e.g. http://127.0.0.1:54321 (+path) */
  readonly issuer: string;
  /** The private keys it signs with (the `keys` option, or the ones it generated). */
  readonly signingKeys: readonly TestIdpSigningKey[];
  /** Its state (the `store` option, or its own), for a restart: `createTestIdp({ ...options, port, keys, store })`. */
  readonly store: TestIdpStore;
  /**
   * The oidc-provider instance. Typed by what it surely has, so a consumer's build needs no types for
   * oidc-provider (which ships none): for its whole API install `@types/oidc-provider` and write
   * `idp.provider as unknown as import('oidc-provider').default`.
   */
  readonly provider: TestIdpProvider;
  /** requests received per endpoint; `backchannel` counts logout tokens sent out (success or failure) */
  readonly counters: Record<IdpEndpoint, number>;
  /** Sets every counter back to 0. */
  resetCounters(): void;
  /** The users this IdP knows (copies, with `sub` filled in). */
  readonly users: readonly TestIdpUser[];
  /**
   * Add a user while the IdP runs, e.g. one with exactly the claims a test needs. Returns it with `sub`
   * filled in. Throws a TypeError on a duplicate username or sub.
   */
  addUser(user: TestIdpUser): TestIdpUser;
  /**
   * Drive the IdP's login UI over HTTP like a browser: start at authorizationUrl, log in with the
   * credentials, auto-consent, and return where the IdP finally sends the browser back to the RP
   * (the RP is never contacted). Throws TestIdpError when the IdP shows an error page or rejects
   * the credentials.
   */
  login(
    authorizationUrl: string | URL,
    credentials: { username: string; password: string },
    jar?: CookieJar,
  ): Promise<IdpReturn>;
  /**
   * Complete an RP-initiated logout: follow endSessionUrl, confirm the logout form and return the
   * post-logout redirect (or the URL of the IdP's "signed out" page). Back-channel logout tokens
   * have been delivered when this resolves.
   */
  logout(endSessionUrl: string | URL, jar: CookieJar): Promise<IdpReturn>;
  /** Stops the server and frees its port. */
  close(): Promise<void>;
}
