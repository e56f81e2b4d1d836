/** Shared state and small HTTP utilities for the hostile fake OP. */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { KeyRing } from './hostile-op-keys.js';
import type {
  Behaviour,
  ClientAuthMethod,
  Counters,
  HostileOpOptions,
  LoginRecord,
  TokenCall,
} from './hostile-op-types.js';

export interface IssuedToken {
  clientId: string;
  sub: string;
  sid: string;
  authTime: number;
  scope: string | undefined;
  /** the authorization code the grant chain started from (for replay revocation) */
  code: string;
  /** epoch seconds; access tokens only */
  exp: number;
}

export interface OpState {
  issuer: string;
  options: HostileOpOptions;
  keys: KeyRing;
  behaviour: Behaviour;
  counters: Counters;
  loginsByCode: Map<string, LoginRecord>;
  logins: LoginRecord[];
  tokenCalls: TokenCall[];
  accessTokens: Map<string, IssuedToken>;
  refreshTokens: Map<string, IssuedToken>;
  revocations: Array<{ token: string; token_type_hint: string | undefined }>;
  endSessions: Array<Record<string, string>>;
  /** wakes every pending delay (used by close()) */
  sleepers: Set<() => void>;
  closed: boolean;
}

export const now = (): number => Math.floor(Date.now() / 1000);
export const random = (prefix: string): string => `${prefix}${randomBytes(18).toString('base64url')}`;
export const s256 = (verifier: string): string => createHash('sha256').update(verifier).digest('base64url');

export function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.writableEnded || res.destroyed || !res.socket || res.socket.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown, contentType = 'application/json'): void {
  send(res, status, JSON.stringify(value), contentType);
}

export function oauthError(
  res: ServerResponse,
  status: number,
  error: string,
  description?: string,
  headers: Record<string, string> = {},
): void {
  send(res, status, JSON.stringify({ error, error_description: description }), 'application/json', headers);
}

export function redirect(res: ServerResponse, location: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(302, { location, 'cache-control': 'no-store' });
  res.end();
}

/** A delay that ends early when the client goes away or the OP closes. */
export function sleep(state: OpState, ms: number, res: ServerResponse): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      state.sleepers.delete(done);
      res.off('close', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    state.sleepers.add(done);
    res.on('close', done);
  });
}

export function parseForm(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function formDecode(v: string): string {
  return decodeURIComponent(v.replace(/\+/g, ' '));
}

export type ClientAuthResult =
  | { ok: true; method: ClientAuthMethod; clientId: string }
  | { ok: false; method: ClientAuthMethod | 'invalid'; description: string; basic: boolean };

export function authenticateClient(
  state: OpState,
  headers: IncomingHttpHeaders,
  params: Record<string, string>,
): ClientAuthResult {
  const { clientId, clientSecret } = state.options;
  const allowed = state.behaviour.allowedClientAuth;
  const authz = headers.authorization;
  let method: ClientAuthMethod;
  let id: string | undefined;
  let secret: string | undefined;
  if (authz !== undefined && /^basic /i.test(authz)) {
    method = 'client_secret_basic';
    if (params.client_secret !== undefined) {
      return { ok: false, method: 'invalid', description: 'more than one client authentication method used', basic: true };
    }
    try {
      const decoded = Buffer.from(authz.slice(6).trim(), 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      if (i < 0) throw new Error('no colon');
      id = formDecode(decoded.slice(0, i));
      secret = formDecode(decoded.slice(i + 1));
    } catch {
      return { ok: false, method, description: 'malformed Basic credentials', basic: true };
    }
    if (params.client_id !== undefined && params.client_id !== id) {
      return { ok: false, method, description: 'client_id mismatch', basic: true };
    }
  } else if (params.client_secret !== undefined) {
    method = 'client_secret_post';
    id = params.client_id;
    secret = params.client_secret;
  } else {
    method = 'none';
    id = params.client_id;
  }
  const basic = method === 'client_secret_basic';
  if (!allowed.includes(method)) return { ok: false, method, description: `${method} not allowed`, basic };
  if (id !== clientId) return { ok: false, method, description: 'unknown client', basic };
  if (method === 'none') {
    if (clientSecret !== undefined) return { ok: false, method, description: 'client authentication required', basic };
  } else if (clientSecret === undefined || secret !== clientSecret) {
    return { ok: false, method, description: 'invalid client secret', basic };
  }
  return { ok: true, method, clientId };
}

/**
 * Slowloris answer: status and headers at once, then one byte of `body` every `intervalMs`, padding with
 * spaces and never finishing. Stops when the client goes away or the OP closes.
 */
export function trickle(state: OpState, res: ServerResponse, intervalMs: number, contentType: string, body = '{"x":'): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
  let i = 0;
  const stop = (): void => {
    clearInterval(timer);
    state.sleepers.delete(stop);
    if (!res.destroyed) res.destroy();
  };
  const timer = setInterval(() => {
    if (state.closed || res.destroyed) return stop();
    res.write(body[i] ?? ' ');
    i += 1;
  }, intervalMs);
  state.sleepers.add(stop);
  res.on('close', stop);
}
