import type { Request } from 'express';
import type { OidcSessionData } from '../core/session/session-data.js';
import { keepNewerLogin } from '../core/session/stale-write.js';

type SaveCallback = (err?: unknown) => void;
type Save = (this: GuardedSession, callback?: SaveCallback) => unknown;
interface Store {
  get(sid: string, callback: (err: unknown, session?: Record<string, unknown> | null) => void): void;
}

/** The session's own save, for the library's writes that already re-read the store (refresh, login). */
export const DIRECT_SAVE: unique symbol = Symbol('oidc-session.directSave');

interface GuardedSession {
  id: string;
  req?: { sessionStore?: Store };
  save: Save;
  [DIRECT_SAVE]?: Save;
  [key: string]: unknown;
}

/** The guarded save for our data under `key`: one function per oidc() instance, shared by its requests. */
function guardedSaveFor(key: string): Save {
  return function guardedSave(this: GuardedSession, callback?: SaveCallback): GuardedSession {
    const save = this[DIRECT_SAVE] as Save;
    const store = this.req?.sessionStore;
    if (!store) {
      save.call(this, callback);
      return this;
    }
    store.get(this.id, (err, stored) => {
      // The store could not tell: write as express-session would have.
      if (err) return void save.call(this, callback);
      const mine = this[key] as OidcSessionData | undefined;
      const next = keepNewerLogin(mine, stored ? (stored[key] as OidcSessionData | undefined) : null);
      if (next === null) return void callback?.();
      if (next !== mine) this[key] = next;
      save.call(this, callback);
    });
    return this;
  };
}

/**
 * express-session saves a modified session at the end of every request. A request that loaded a logged-in
 * session and then changed it would write that copy back even after the session was destroyed meanwhile
 * (logout in another tab, back-channel logout) or its tokens were refreshed by another request. For
 * logged-in sessions only, the save first re-reads the store: a destroyed session stays destroyed, and the
 * store's newer login replaces this request's stale one. One store read, only when the session is saved.
 */
export function staleWriteGuard(key: string): (req: Request) => void {
  const guardedSave = guardedSaveFor(key);
  return (req) => {
    const session = (req as unknown as { session?: GuardedSession }).session;
    // The store is looked up when the session is saved: a read of req.sessionStore here costs every request.
    if (!session || Object.hasOwn(session, DIRECT_SAVE)) return;
    if (!(session[key] as OidcSessionData | undefined)?.auth) return;
    // Plain assignments and one shared function: express-session already made `save` an own writable
    // property, symbol keys are never serialised, and a request costs no closure.
    session[DIRECT_SAVE] = session.save;
    session.save = guardedSave;
  };
}
