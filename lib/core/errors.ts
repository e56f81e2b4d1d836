/**
 * The one error class of oidc-session. `code` is stable and documented; `status` is the HTTP status the
 * adapters (and Express's / Koa's default handlers) answer with; `expose` says whether the message may be
 * shown to the end user (4xx only). Messages never contain tokens, codes or raw IdP text.
 */
export const ERROR_STATUS = {
  ERR_OIDC_INVALID_CONFIG: 500,
  ERR_OIDC_NO_SESSION: 500,
  ERR_OIDC_NOT_MOUNTED: 500,
  ERR_OIDC_INSECURE_COOKIE: 500,
  ERR_OIDC_SESSION_STORE: 500,
  ERR_OIDC_STORE_UNAVAILABLE: 503,
  ERR_OIDC_DISCOVERY_FAILED: 502,
  ERR_OIDC_IDP_TIMEOUT: 504,
  ERR_OIDC_UNKNOWN_PROVIDER: 400,
  ERR_OIDC_INVALID_CALLBACK: 400,
  ERR_OIDC_MISSING_TRANSACTION: 400,
  ERR_OIDC_NO_SESSION_COOKIE: 400,
  ERR_OIDC_INVALID_GRANT: 400,
  ERR_OIDC_ACCESS_DENIED: 401,
  ERR_OIDC_IDP_ERROR: 502,
  ERR_OIDC_TOKEN_REQUEST_FAILED: 502,
  ERR_OIDC_INVALID_ID_TOKEN: 502,
  ERR_OIDC_USERINFO_FAILED: 502,
  ERR_OIDC_UNAUTHENTICATED: 401,
  ERR_OIDC_REFRESH_FAILED: 401,
  ERR_OIDC_LOGIN_REFUSED: 403,
  ERR_OIDC_FORBIDDEN: 403,
  ERR_OIDC_CROSS_SITE_REQUEST: 403,
  ERR_OIDC_METHOD_NOT_ALLOWED: 405,
  ERR_OIDC_INVALID_LOGOUT_TOKEN: 400,
  ERR_OIDC_STEP_UP_REQUIRED: 401,
  ERR_OIDC_STEP_UP_FAILED: 403,
  ERR_OIDC_RESOURCE_REFUSED: 403,
  ERR_OIDC_COOKIE_SESSION: 500,
  ERR_OIDC_MISSING_TOKEN: 401,
  ERR_OIDC_INVALID_TOKEN: 401,
  ERR_OIDC_INVALID_DPOP_PROOF: 401,
  ERR_OIDC_INSUFFICIENT_SCOPE: 403,
  ERR_OIDC_INVALID_REQUEST: 400,
  ERR_OIDC_INTROSPECTION_FAILED: 502,
} as const;

/** The stable error codes (docs/errors.md lists each with its status and cause). */
export type OidcErrorCode = keyof typeof ERROR_STATUS;

/** What an OidcError may carry besides its code and message. */
export interface OidcErrorOptions {
  cause?: unknown;
  /** Extra response headers, honoured by Express's default error handler (`err.headers`). */
  headers?: Record<string, string>;
  /** The OAuth error code the IdP answered with (`access_denied`, `login_required`, `invalid_grant`...). */
  idpError?: string;
  /** The IdP's error_description. Never part of `message`; render it escaped if at all. */
  idpErrorDescription?: string;
}

/**
 * The one error class: `code` (stable, switch on it), `status` / `statusCode` (what the adapters answer),
 * `expose` (whether the message may be shown to the user: 4xx only), `headers`, and the original `cause`.
 */
export class OidcError extends Error {
  readonly code: OidcErrorCode;
  readonly status: number;
  readonly statusCode: number;
  readonly expose: boolean;
  headers: Record<string, string> | undefined;
  readonly idpError: string | undefined;
  readonly idpErrorDescription: string | undefined;

  constructor(code: OidcErrorCode, message: string, options: OidcErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OidcError';
    this.code = code;
    this.status = ERROR_STATUS[code];
    this.statusCode = this.status;
    this.expose = this.status < 500;
    this.headers = options.headers;
    this.idpError = options.idpError;
    this.idpErrorDescription = options.idpErrorDescription;
  }
}

/** Type guard: `value` is an OidcError (of this copy of the library). */
export function isOidcError(value: unknown): value is OidcError {
  return value instanceof OidcError;
}

/** Answers about a login must never be cached nor leak the URL (code, state) through a Referer. */
export const PRIVATE_RESPONSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });

/** Marks an error from /login, /callback or /logout so every error handler answers it uncached. */
export function asRouteError(err: unknown): unknown {
  if (err instanceof OidcError) err.headers = { ...PRIVATE_RESPONSE_HEADERS, ...err.headers };
  return err;
}
