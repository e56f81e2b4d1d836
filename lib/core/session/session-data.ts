import type { JWK } from 'jose';
import type { TokenSet } from '../config/options.js';

/** One pending login (one browser tab), stored in the session under its `state`. */
export interface LoginTransaction {
  /** Provider id. */
  provider: string;
  nonce: string;
  codeVerifier: string;
  returnTo: string;
  /** Epoch seconds. */
  createdAt: number;
  maxAge?: number;
  /** acr values asked for (step-up); the returning ID token must carry one of them. */
  acrValues?: string[];
  /** A `prompt=none` attempt: "login required" answers end quietly as logged out. */
  silent?: boolean;
}

/**
 * The authenticated login. ID token claims are not stored beside the raw ID token (they are in it);
 * only the userinfo claims that differ from the ID token's are kept, so the session stays small.
 */
export interface AuthenticatedSession {
  provider: string;
  iss: string;
  sub: string;
  sid?: string;
  idToken: string;
  accessToken: string;
  tokenType?: string;
  refreshToken?: string;
  /** Access token expiry, epoch seconds. */
  expiresAt?: number;
  scope?: string;
  /** Userinfo claims not already equal in the ID token. */
  userinfo?: Record<string, unknown>;
  /** When this login happened, epoch seconds (for the absolute session lifetime). */
  authenticatedAt: number;
  /** The user object `onLogin` returned, when it returned one (then it is `req.user`). */
  user?: Record<string, unknown>;
  /** The session's DPoP private key (`dpop: true`); never sent anywhere, used to sign proofs. */
  dpopKey?: JWK;
  /** Access tokens for other APIs (RFC 8707 resource indicators), by resource; see resource-tokens.ts. */
  resourceTokens?: Record<string, ResourceToken>;
}

/** An access token obtained with the refresh token for one resource (`getAccessToken({ resource })`). */
export interface ResourceToken {
  accessToken: string;
  tokenType?: string;
  /** Epoch seconds. */
  expiresAt?: number;
  /** The scope granted (or, when the IdP did not say, the scope asked for). */
  scope?: string;
  /** Epoch seconds; the oldest entry is dropped first when `maxResourceTokens` is reached. */
  obtainedAt: number;
}

/** Everything oidc-session keeps in one session, under `sessionKey` (default `oidc`). */
export interface OidcSessionData {
  transactions?: Record<string, LoginTransaction>;
  auth?: AuthenticatedSession;
  /** A silent login was tried in this session (tried once only). */
  silentTried?: boolean;
  /** The user logged out in this browser: no silent login until they log in again. */
  loggedOut?: boolean;
}

/**
 * The framework's session, as the core sees it. Adapters implement this over express-session or
 * koa-session; every method that touches the store returns a Promise.
 */
export interface SessionPort {
  /** The session id (the store key). */
  id(): string;
  /** Our data in the request's session, as loaded. */
  read(): OidcSessionData | undefined;
  /** What the store holds for this session now (null when it no longer exists), without touching the request's copy. */
  readStored(): Promise<OidcSessionData | undefined | null>;
  /** Replaces our data in the request's session (undefined removes it); saved by save(). */
  write(data: OidcSessionData | undefined): void;
  /** The app's own data in the session (every key but ours and the cookie). */
  readAppData(): Record<string, unknown>;
  /** Puts the app's own keys back (after a regenerate, `keepSessionData`). */
  writeAppData(data: Record<string, unknown>): void;
  /** New session id, empty data and the app's usual lifetime: the fixation defence at login. */
  regenerate(): Promise<void>;
  /**
   * Ends this session in the store (and its cookie) `ttlMs` from now instead of after the app's usual
   * lifetime: for a session that holds nothing but pending logins. Applies from the next save().
   */
  expireAfter(ttlMs: number): void;
  /** Writes the session to its store now. */
  save(): Promise<void>;
  /** Deletes the session from its store (logout). */
  destroy(): Promise<void>;
  /**
   * Throws ERR_OIDC_INSECURE_COOKIE when the session cookie cannot reach the browser from this request
   * (a Secure cookie on a request the framework sees as plain http), before a login is started that
   * could only fail at the callback.
   */
  assertCookieDeliverable?(): void;
}

/** The tokens of a login as the hooks (`onLogin`, `onRefresh`) see them. */
export function tokenSet(auth: AuthenticatedSession): TokenSet {
  return {
    idToken: auth.idToken,
    accessToken: auth.accessToken,
    ...(auth.refreshToken ? { refreshToken: auth.refreshToken } : {}),
    ...(auth.expiresAt !== undefined ? { expiresAt: auth.expiresAt } : {}),
    ...(auth.scope ? { scope: auth.scope } : {}),
    ...(auth.tokenType ? { tokenType: auth.tokenType } : {}),
  };
}
