import { createHash } from 'node:crypto';
import type { LoginTransaction, OidcSessionData } from '../session/session-data.js';

/** Drops expired transactions and keeps at most `max` of the newest ones. */
export function pruneTransactions(
  transactions: Record<string, LoginTransaction> | undefined,
  nowSec: number,
  ttlSec: number,
  max: number,
): Record<string, LoginTransaction> {
  // Newest first; among equal timestamps the later-inserted one is newer, hence the reverse before a stable sort.
  const live = Object.entries(transactions ?? {})
    .reverse()
    .filter(([, tx]) => typeof tx?.createdAt === 'number' && nowSec - tx.createdAt < ttlSec && tx.createdAt <= nowSec + 60)
    .sort(([, a], [, b]) => b.createdAt - a.createdAt)
    .slice(0, max)
    .reverse();
  return Object.fromEntries(live);
}

export function withTransaction(
  data: OidcSessionData | undefined,
  state: string,
  tx: LoginTransaction,
  nowSec: number,
  ttlSec: number,
  max: number,
): OidcSessionData {
  const transactions = pruneTransactions({ ...data?.transactions, [state]: tx }, nowSec, ttlSec, max);
  return { ...data, transactions };
}

/** Removes and returns the transaction for `state` (single use); the rest stay pending. */
export function takeTransaction(
  data: OidcSessionData | undefined,
  state: string,
): { tx: LoginTransaction | undefined; rest: Record<string, LoginTransaction> } {
  const all = data?.transactions ?? {};
  const tx = Object.hasOwn(all, state) ? all[state] : undefined;
  const rest = { ...all };
  delete rest[state];
  return { tx, rest };
}

/** Lock key that lets exactly one request redeem the code of the login started with `state`. */
export function callbackClaimKey(state: string): string {
  return 'callback:' + createHash('sha256').update(state).digest('base64url').slice(0, 32);
}

/**
 * True when a session holds nothing but pending logins (and the silent-login marker): no login, no
 * logout marker, no data of the app. Such a session is worth nothing once its logins expire, so it
 * should leave the store with them rather than live as long as the session cookie.
 */
export function holdsOnlyPendingLogins(data: OidcSessionData, appData: Record<string, unknown>): boolean {
  return data.auth === undefined && !data.loggedOut && Object.keys(appData).length === 0;
}
