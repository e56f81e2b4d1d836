import type { RequestListener } from 'node:http';
import type { LoginContext } from '../../lib/core/login-context.js';
import type { OidcOptions, OidcUser } from '../../lib/express/index.js';

/** Every adapter the shared suites run against. */
export type Adapter = 'express5' | 'express4' | 'koa';
export const ADAPTERS: readonly Adapter[] = ['express5', 'express4', 'koa'];

export const RP_BASE_URL = 'http://127.0.0.1:3000';

/** What a test route's handler sees, whatever the framework (`req.user`/`req.oidc` or `ctx.state`). */
export interface RouteView {
  user: OidcUser | undefined;
  oidc: LoginContext | undefined;
  query: Record<string, unknown>;
}

/** An extra route for one test, written once for every adapter. The handler's result is sent as JSON. */
export interface TestRoute {
  method: 'get' | 'post';
  path: string;
  /** Behind `requireAuth(guard)` when set. */
  guard?: { autoRefresh?: boolean };
  handler(view: RouteView): unknown;
}

export interface RpApp {
  adapter: Adapter;
  /** The app's request listener (hand it to supertest or http.createServer). */
  app: RequestListener;
  /** Every session record in the store, parsed. */
  sessions(): Promise<Record<string, Record<string, unknown>>>;
  /** Errors that reached the app's error handler. */
  errors: Array<{ code?: string; status?: number; message: string }>;
}

export type RpOptions = Partial<OidcOptions>;

/** Path + query of an absolute URL, for supertest. */
export function localPath(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}
