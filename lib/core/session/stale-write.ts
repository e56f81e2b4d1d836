import type { AuthenticatedSession, OidcSessionData } from './session-data.js';

function sameTokens(a: AuthenticatedSession, b: AuthenticatedSession): boolean {
  return a.accessToken === b.accessToken && a.refreshToken === b.refreshToken;
}

/**
 * What a request that changed a logged-in session may write back at its end, given what the store holds
 * now (`stored`: our data there, null when the session no longer exists). Both frameworks write a changed
 * session back whatever happened meanwhile; this is the one rule for both:
 * - null: the session was destroyed (logout in another tab, back-channel logout) and must stay destroyed;
 * - otherwise the data to write: `mine`, or `mine` with the store's newer login instead of this request's
 *   stale copy (another request refreshed the tokens, or ended the login).
 */
export function keepNewerLogin(mine: OidcSessionData | undefined, stored: OidcSessionData | undefined | null): OidcSessionData | undefined | null {
  if (stored === null) return null;
  const theirs = stored?.auth;
  if (!mine?.auth || (theirs && sameTokens(theirs, mine.auth))) return mine;
  const { auth: _stale, ...rest } = mine;
  return theirs ? { ...rest, auth: theirs } : rest;
}
