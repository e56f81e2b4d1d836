import type { Request } from 'express';
import type { OidcSessionData } from '../core/session-data.js';

type SaveCallback = (err?: unknown) => void;
interface GuardedSession {
  id: string;
  save(callback?: SaveCallback): unknown;
  [key: string]: unknown;
}
interface Store {
  get(sid: string, callback: (err: unknown, session?: Record<string, unknown> | null) => void): void;
}

/** The session's own save, for the library's writes that already re-read the store (refresh, login). */
export const DIRECT_SAVE = Symbol('oidc-session.directSave');

/**
 * express-session saves a modified session at the end of every request. A request that loaded a logged-in
 * session and then changed it would write that copy back even after the session was destroyed meanwhile
 * (logout in another tab, back-channel logout) or its tokens were refreshed by another request. For
 * logged-in sessions only, the save first re-reads the store: a destroyed session stays destroyed, and the
 * store's newer login replaces this request's stale one. One store read, only when the session is saved.
 */
export function guardStaleWrites(req: Request, key: string): void {
  const session = (req as unknown as { session?: GuardedSession }).session;
  const store = (req as unknown as { sessionStore?: Store }).sessionStore;
  if (!session || !store || Object.hasOwn(session, DIRECT_SAVE)) return;
  const loaded = (session[key] as OidcSessionData | undefined)?.auth;
  if (!loaded) return;
  const save = session.save;
  // Plain assignments (not defineProperty): express-session already made `save` an own writable property,
  // and a symbol key is never serialised.
  (session as unknown as Record<symbol, unknown>)[DIRECT_SAVE] = save;
  session.save = function guardedSave(this: GuardedSession, callback?: SaveCallback): GuardedSession {
    store.get(this.id, (err, stored) => {
      if (err) return void save.call(this, callback);
      if (!stored) return void callback?.();
      const mine = (this[key] as OidcSessionData | undefined)?.auth;
      const theirs = (stored[key] as OidcSessionData | undefined)?.auth;
      if (mine && (!theirs || theirs.accessToken !== mine.accessToken || theirs.refreshToken !== mine.refreshToken)) {
        const { auth: _stale, ...rest } = this[key] as OidcSessionData;
        this[key] = theirs ? { ...rest, auth: theirs } : rest;
      }
      save.call(this, callback);
    });
    return this;
  };
}
