/**
 * Types and defaults for the hostile fake OP (see ./hostile-op.ts).
 * Defaults describe a *correct* OP; tests flip individual switches.
 */

export type JwsAlg = 'RS256' | 'ES256' | 'HS256' | 'none';
export type SignKey = 'rs' | 'es' | 'other-rs' | 'previous-rs' | 'secret';
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';

export interface HostileOpOptions {
  clientId: string;
  clientSecret?: string;
}

/** Applied when minting an ID token (authorization_code or refresh_token grant). */
export interface IdTokenMutation {
  /** override claims; a key present with value `undefined` deletes the claim */
  claims?: Record<string, unknown>;
  /** default RS256 */
  alg?: JwsAlg;
  /** for alg HS256: key with the client secret (default), the RSA public key SPKI PEM bytes, or its JWK JSON bytes */
  hs256Key?: 'client_secret' | 'public_key' | 'public_key_jwk';
  /** flip a bit in the first byte of the signature */
  badSignature?: boolean;
  /** undefined = kid of the signing key, null = no kid header, string = that kid */
  kid?: string | null;
  /** add a `crit` header naming an unknown extension */
  crit?: boolean;
  /** RS256 signing key: 'current' (default, in JWKS), 'other-rs' (never in JWKS), 'previous' (rotated-out key) */
  signWith?: 'current' | 'other-rs' | 'previous';
  /** undefined = 'JWT', null = no typ header */
  typ?: string | null;
  /** extra protected-header parameters */
  header?: Record<string, unknown>;
  /** sign with this key instead (e.g. a weak 1024-bit RSA key the test publishes via jwksExtraKeys); kid as given (undefined = none) */
  customKey?: { privateKey: CryptoKey; kid?: string };
}

export interface AuthorizeError {
  error: string;
  error_description?: string;
  error_uri?: string;
}

export interface Behaviour {
  // ---- discovery (/.well-known/openid-configuration)
  discoveryStatus: number;
  /** merged into the metadata; a key with value `undefined` is removed */
  discoveryOverrides: Record<string, unknown>;
  /** raw body replacing the JSON metadata */
  discoveryBody: string | undefined;
  discoveryDelayMs: number;
  /** > 0: send 200 headers at once, then one byte of body every N ms, never finishing (slowloris) */
  discoveryTrickleMs: number;

  // ---- authorization endpoint
  authorizeError: AuthorizeError | undefined;
  issParam: 'correct' | 'wrong' | 'missing';
  stateParam: 'echo' | 'wrong' | 'missing';
  /** extra query parameters appended to the callback (e.g. a smuggled id_token) */
  extraCallbackParams: Record<string, string>;
  /** subject of the end user that "logs in" */
  sub: string;

  // ---- token endpoint
  tokenStatus: number;
  /** raw body; sent with tokenStatus and tokenContentType, bypassing all grant processing */
  tokenBody: string | undefined;
  tokenDelayMs: number;
  tokenContentType: string;
  /** extra response headers on every token endpoint answer (e.g. location, www-authenticate) */
  tokenHeaders: Record<string, string>;
  /** > 0: send 200 headers at once, then one byte of body every N ms, never finishing (slowloris) */
  tokenTrickleMs: number;
  /** token_type in the response */
  tokenType: string;
  /** merged into the JSON token response; `undefined` values delete */
  tokenExtra: Record<string, unknown>;
  omitIdToken: boolean;
  idToken: IdTokenMutation;
  refreshIdToken: IdTokenMutation;
  /** include an id_token in refresh_token grant responses */
  refreshIssueIdToken: boolean;
  rotateRefreshToken: boolean;
  /** if set, refresh_token grant answers 400 { error: refreshError } */
  refreshError: string | undefined;
  /** expires_in (seconds); access tokens really expire for userinfo */
  accessTokenTtl: number;
  issueRefreshToken: boolean;
  /** reject authorization_code grants whose authorize request carried no code_challenge */
  requirePkce: boolean;
  /** client authentication methods accepted at token/revocation endpoints */
  allowedClientAuth: ClientAuthMethod[];

  // ---- userinfo
  userinfoStatus: number;
  userinfoBody: string | undefined;
  userinfoContentType: string;
  userinfoDelayMs: number;
  /** extra response headers on userinfo answers (e.g. www-authenticate with userinfoStatus 401) */
  userinfoHeaders: Record<string, string>;
  userinfoSub: string | undefined;
  userinfoClaims: Record<string, unknown>;

  // ---- jwks
  jwksStatus: number;
  jwksBody: string | undefined;
  jwksDelayMs: number;
  /** also publish the ES256 public key (so ES256-signed tokens verify; only the alg is "wrong") */
  jwksIncludeEs: boolean;
  /** also publish the rotated-out RS256 key after rotateKeys() */
  jwksIncludePrevious: boolean;
  /** extra JWKs published after the OP's own keys */
  jwksExtraKeys: Array<Record<string, unknown>>;

  // ---- revocation / end_session
  revocationStatus: number;
  /** redirect 302 to post_logout_redirect_uri (with state) instead of the 200 page */
  endSessionRedirect: boolean;
}

export function defaultBehaviour(): Behaviour {
  return {
    discoveryStatus: 200,
    discoveryOverrides: {},
    discoveryBody: undefined,
    discoveryDelayMs: 0,
    discoveryTrickleMs: 0,

    authorizeError: undefined,
    issParam: 'correct',
    stateParam: 'echo',
    extraCallbackParams: {},
    sub: 'user-1',

    tokenStatus: 200,
    tokenBody: undefined,
    tokenDelayMs: 0,
    tokenContentType: 'application/json',
    tokenHeaders: {},
    tokenTrickleMs: 0,
    tokenType: 'Bearer',
    tokenExtra: {},
    omitIdToken: false,
    idToken: {},
    refreshIdToken: {},
    refreshIssueIdToken: true,
    rotateRefreshToken: true,
    refreshError: undefined,
    accessTokenTtl: 3600,
    issueRefreshToken: true,
    requirePkce: true,
    allowedClientAuth: ['client_secret_basic', 'client_secret_post', 'none'],

    userinfoStatus: 200,
    userinfoBody: undefined,
    userinfoContentType: 'application/json',
    userinfoDelayMs: 0,
    userinfoHeaders: {},
    userinfoSub: undefined,
    userinfoClaims: {},

    jwksStatus: 200,
    jwksBody: undefined,
    jwksDelayMs: 0,
    jwksIncludeEs: true,
    jwksIncludePrevious: false,
    jwksExtraKeys: [],

    revocationStatus: 200,
    endSessionRedirect: false,
  };
}

export interface Counters {
  discovery: number;
  jwks: number;
  authorization: number;
  token: number;
  userinfo: number;
  revocation: number;
  end_session: number;
}

export type EndpointName = keyof Counters | 'unknown';

export interface CapturedRequest {
  endpoint: EndpointName;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One auto-approved authorization request. */
export interface LoginRecord {
  code: string;
  clientId: string;
  redirectUri: string;
  state: string;
  nonce: string | undefined;
  scope: string | undefined;
  codeChallenge: string | undefined;
  codeChallengeMethod: string | undefined;
  sub: string;
  sid: string;
  authTime: number;
  used: boolean;
}

export interface TokenCall {
  grantType: string;
  clientAuth: ClientAuthMethod | 'invalid';
  params: Record<string, string>;
  /** outcome: 'ok' or the OAuth error code returned */
  result: string;
}

export interface SignHeader {
  alg?: JwsAlg;
  /** undefined = kid of the key, null = no kid */
  kid?: string | null;
  typ?: string;
  /** default depends on alg: RS256 → 'rs', ES256 → 'es', HS256 → 'secret' */
  key?: SignKey;
}

export interface HostileOp {
  /** http://127.0.0.1:PORT (no trailing slash) */
  issuer: string;
  /** mutable behaviour; tests set fields before driving a login, reset() restores defaults */
  behaviour: Behaviour;
  /** restores default behaviour (in place) and clears counters and all records (requests, logins, ...) */
  reset(): void;
  counters: Counters;
  requests: CapturedRequest[];
  /** every authorization request that produced a code */
  logins: LoginRecord[];
  /** every token endpoint call: grant, which client auth was used, params, outcome */
  tokenCalls: TokenCall[];
  revocations: Array<{ token: string; token_type_hint: string | undefined }>;
  endSessions: Array<Record<string, string>>;
  /** fetch(url, {redirect:'manual'}) and return the Location (the callback URL) */
  authorize(authorizationUrl: string | URL): Promise<string>;
  /** mint an arbitrary signed JWT with the OP's keys */
  sign(payload: Record<string, unknown>, header?: SignHeader): Promise<string>;
  /** new RS256 key with a new kid; JWKS now serves only the new one (plus ES unless disabled) */
  rotateKeys(): Promise<void>;
  /** kid of the current RS256 key */
  currentKid(): string;
  close(): Promise<void>;
}
