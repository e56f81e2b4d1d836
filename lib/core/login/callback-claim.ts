import { OidcError } from '../errors.js';
import type { RefreshLock } from '../stores/lock.js';
import type { SessionPort } from '../session/session-data.js';
import { callbackClaimKey } from './transactions.js';

function alreadyUsed(): OidcError {
  return new OidcError('ERR_OIDC_MISSING_TRANSACTION', 'This login is already being completed (the same callback arrived twice)');
}

/**
 * Runs `redeem` for the login started with `state` only if this request is the one that may redeem its
 * code. Two copies of one callback (double click, replay) race: the claim lets one through at a time,
 * and the store, read once the claim is held, tells whether an earlier copy already used the pending
 * login. So the claim is needed only while `redeem` runs, and is released afterwards: a lock that kept
 * every claim for the whole transactionTtl grew with every login.
 */
export async function withCallbackClaim<T>(
  lock: RefreshLock,
  session: SessionPort,
  state: string,
  ttlMs: number,
  redeem: () => Promise<T>,
): Promise<T> {
  const key = callbackClaimKey(state);
  if (!(await lock.acquire(key, ttlMs))) throw alreadyUsed();
  try {
    const stored = await session.readStored();
    if (!stored?.transactions || !Object.hasOwn(stored.transactions, state)) throw alreadyUsed();
    return await redeem();
  } finally {
    await lock.release(key).catch(() => undefined);
  }
}
