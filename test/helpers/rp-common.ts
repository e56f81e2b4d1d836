import type { RequestListener } from 'node:http';
import type { LoginOptions, LogoutOptions } from '../../lib/core/login/app-login.js';
import type { AuthInfo } from '../../lib/core/bearer/index.js';
import type { RequireAuthOptions } from '../../lib/core/guards/require-auth.js';
import type { LoginContext } from '../../lib/core/login-context.js';
import type { OidcOptions, OidcUser } from '../../lib/express/index.js';

/** Every adapter the shared suites run against. */
export type Adapter = 'express5' | 'express4' | 'koa';
export const ADAPTERS: readonly Adapter[] = ['express5', 'express4', 'koa'];

export const RP_BASE_URL = 'http://127.0.0.1:3000';

/** What a test route's handler sees, whatever the framework (`req.*` / `res.oidc` or `ctx.state`). */
export interface RouteView {
  user: OidcUser | undefined;
  oidc: LoginContext | undefined;
  query: Record<string, unknown>;
  /** The app's own session object (express-session's `req.session`, koa-session's `ctx.session`). */
  session: Record<string, unknown>;
  /** The verified access token (`req.auth` / `ctx.state.auth`) when a bearer guard admitted the request. */
  auth: AuthInfo | undefined;
  /** `res.oidc.login()` (Express) / `ctx.state.oidc.login()` (Koa): the route answers with the redirect. */
  login(options?: LoginOptions): Promise<void>;
  /** `res.oidc.logout()` (Express) / `ctx.state.oidc.logout()` (Koa): the route answers with the redirect. */
  logout(options?: LogoutOptions): Promise<void>;
  /** Answer with this status instead of 200. */
  status(code: number): void;
}

/** The same guards under the same names from each adapter; what they return is the adapter's middleware. */
export interface GuardKit {
  requireAuth(options?: RequireAuthOptions): unknown;
  requireRoles(...roles: string[]): unknown;
  requireScopes(...scopes: string[]): unknown;
  claimEquals(path: string | readonly string[], value: unknown): unknown;
  claimIncludes(path: string | readonly string[], ...values: unknown[]): unknown;
  claimCheck(check: (user: OidcUser, req: unknown) => boolean | Promise<boolean>): unknown;
}

/** An extra route for one test, written once for every adapter. The handler's result is sent as JSON. */
export interface TestRoute {
  method: 'get' | 'post';
  path: string;
  /** `requireAuth(options)` when an object, or guards (one or a list) built from the adapter's kit. */
  guard?: RequireAuthOptions | ((kit: GuardKit) => unknown);
  handler(view: RouteView): unknown;
}

export interface RpApp {
  adapter: Adapter;
  /** The `oidc()` middleware (`requireAuth()` returns the adapter's own middleware). */
  auth: { requireAuth(options?: RequireAuthOptions): unknown };
  /** The app's request listener (hand it to supertest or http.createServer). */
  app: RequestListener;
  /** Every session record in the store, parsed. */
  sessions(): Promise<Record<string, Record<string, unknown>>>;
  /** Errors that reached the app's error handler (which answers `{ error: code }` and sends `err.headers`). */
  errors: Array<{ code?: string; status?: number; message: string }>;
}

/**
 * `oidc()` options for a test app. Hooks get the adapter's request (`req` / `ctx`) typed loosely; an
 * `onError` must match the adapter (`(err, req, res)` for Express, `(err, ctx)` for Koa).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RpOptions = Partial<OidcOptions<any>> & { onError?: unknown };

/** Path + query of an absolute URL, for supertest. */
export function localPath(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}

/**
 * The test apps' logger: the suites provoke failed logins on purpose, and the default logger would print
 * each cause once per app (over a thousand lines). Pass `logger: undefined` for the default one.
 */
export const QUIET_LOGGER = { debug() {}, info() {}, warn() {}, error() {} };
