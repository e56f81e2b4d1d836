/**
 * Shared steps of the attacker's-eye suite (test/security): drive a login against the hostile OP, look
 * into the session store, and assert the checklist's REJECT invariants (R1: nothing of a login stored,
 * a guarded request stays anonymous).
 */
import request from 'supertest';
import { expect } from 'vitest';
import type { HostileOp } from '../helpers/hostile-op.js';
import { localPath } from '../helpers/rp-app.js';
import type { RpApp } from '../helpers/rp-app.js';

export interface StoredAuth {
  idToken: string;
  accessToken: string;
  refreshToken?: string;
  expiresAt?: number;
  sub: string;
  iss: string;
  sid?: string;
}

export interface StartedLogin {
  agent: request.Agent;
  authorizeUrl: URL;
  callbackUrl: string;
  callbackPath: string;
}

/** GET /login in a fresh browser, let the OP approve, return the callback URL (not yet visited). */
export async function startLogin(rp: RpApp, op: HostileOp, loginPath = '/login'): Promise<StartedLogin> {
  const agent = request.agent(rp.app);
  const start = await agent.get(loginPath).expect(302);
  const authorizeUrl = new URL(start.headers.location as string);
  const callbackUrl = await op.authorize(authorizeUrl);
  return { agent, authorizeUrl, callbackUrl, callbackPath: localPath(callbackUrl) };
}

/** A whole login: returns the browser and the callback response. */
export async function login(rp: RpApp, op: HostileOp, loginPath = '/login'): Promise<StartedLogin & { res: request.Response }> {
  const started = await startLogin(rp, op, loginPath);
  const res = await started.agent.get(started.callbackPath);
  return { ...started, res };
}

/** A browser that completed a login (asserts the success redirect). */
export async function loggedIn(rp: RpApp, op: HostileOp): Promise<request.Agent> {
  const { agent, res } = await login(rp, op);
  expect(res.status).toBe(302);
  return agent;
}

/** The `auth` part of every stored session that has one. */
export async function storedAuths(rp: RpApp): Promise<StoredAuth[]> {
  const all = await rp.sessions();
  return Object.values(all)
    .map((s) => (s as { oidc?: { auth?: StoredAuth } }).oidc?.auth)
    .filter((a): a is StoredAuth => a !== undefined);
}

/** R1: nothing of a login in the store; a guarded request is still anonymous. */
export async function expectNotLoggedIn(rp: RpApp, agent: request.Agent): Promise<void> {
  const stored = JSON.stringify(await rp.sessions());
  expect(stored).not.toMatch(/"auth"|idToken|accessToken|refreshToken/);
  await agent.get('/api/me').set('Accept', 'application/json').expect(401);
}

/** The pending login transactions of the (single) session in the store. */
export async function pendingStates(rp: RpApp): Promise<string[]> {
  const all = Object.values(await rp.sessions());
  return all.flatMap((s) => Object.keys((s as { oidc?: { transactions?: Record<string, unknown> } }).oidc?.transactions ?? {}));
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

/** A logger that keeps every line (message + JSON of the fields) for grepping. */
export function captureLogger(): { lines: string[]; logger: Record<'debug' | 'info' | 'warn' | 'error', (m: string, f?: Record<string, unknown>) => void> } {
  const lines: string[] = [];
  const log = (message: string, fields?: Record<string, unknown>) => {
    lines.push(`${message} ${JSON.stringify(fields ?? {})}`);
  };
  return { lines, logger: { debug: log, info: log, warn: log, error: log } };
}
