import type { Request } from 'express';
import type { OidcSessionData } from '../core/session/session-data.js';
import { keepNewerLogin } from '../core/session/stale-write.js';

type SaveCallback = (err?: unknown) => void;
type Save = (this: OurSession, callback?: SaveCallback) => unknown;
interface Store {
  get(sid: string, callback: (err: unknown, session?: Record<string, unknown> | null) => void): void;
}

/** The session's own save (express-session's), beneath ours: the library's own writes go through it. */
const OWN_SAVE: unique symbol = Symbol('oidc-session.ownSave');
/** The session as the library's last own save wrote it (its cookie left out). */
const SAVED_STATE: unique symbol = Symbol('oidc-session.savedState');

interface OurSession {
  id: string;
  req?: { sessionStore?: Store };
  save: Save;
  [OWN_SAVE]?: Save;
  [SAVED_STATE]?: string;
  [key: string]: unknown;
}

/**
 * The session as a save now would write it, without its cookie: express-session itself judges a session
 * unchanged by the same comparison (its `hash()` leaves the cookie out too).
 */
export function savedStateOf(session: object): string {
  // A copy without the cookie, not a replacer: a replacer is called for every key at every depth (a
  // login's session: 3.3 us with one, 2.5 us with the copy).
  const { cookie: _cookie, ...rest } = session as Record<string, unknown>;
  return JSON.stringify(rest);
}

/**
 * The save express-session makes at the end of a request, once the library has taken the session's
 * `save` over. Two rules, in this order:
 * - unchanged since the library's own save of it in this request: nothing to write (express-session
 *   cannot tell after regenerate(), whose new session's save is not its wrapped one: every login was
 *   written twice);
 * - `guardedKey` (the request loaded a logged-in session under that key): re-read the store first, so
 *   that a session destroyed meanwhile (logout in another tab, back-channel logout) stays destroyed and
 *   the store's newer login replaces this request's stale copy (keepNewerLogin).
 * One function per oidc() instance (and one without a key), shared by its requests: a request costs no closure.
 */
function endOfRequestSave(guardedKey: string | undefined): Save {
  return function saveAtEnd(this: OurSession, callback?: SaveCallback): OurSession {
    if (this[SAVED_STATE] !== undefined && this[SAVED_STATE] === savedStateOf(this)) {
      // Asynchronous like a store's answer, so callers see the order they would see after a real write.
      if (callback) queueMicrotask(() => callback());
      return this;
    }
    const save = this[OWN_SAVE] as Save;
    const store = this.req?.sessionStore;
    if (guardedKey === undefined || !store) {
      save.call(this, callback);
      return this;
    }
    store.get(this.id, (err, stored) => {
      // The store could not tell: write as express-session would have.
      if (err) return void save.call(this, callback);
      const mine = this[guardedKey] as OidcSessionData | undefined;
      const next = keepNewerLogin(mine, stored ? (stored[guardedKey] as OidcSessionData | undefined) : null);
      if (next === null) return void callback?.();
      if (next !== mine) this[guardedKey] = next;
      save.call(this, callback);
    });
    return this;
  };
}

const UNGUARDED_SAVE = endOfRequestSave(undefined);

function takeOver(session: OurSession, saveAtEnd: Save): void {
  session[OWN_SAVE] = session.save;
  // express-session made `save` an own writable property of the session it loaded: a plain assignment.
  // After regenerate() it is the prototype's, and an own data property would show up in Object.keys().
  if (Object.hasOwn(session, 'save')) session.save = saveAtEnd;
  else Object.defineProperty(session, 'save', { configurable: true, enumerable: false, writable: true, value: saveAtEnd });
}

/**
 * For logged-in sessions only: their end-of-request save re-reads the store first (endOfRequestSave).
 * One store read, only when the session is saved; the store is looked up then too (reading
 * req.sessionStore here would cost every request).
 */
export function staleWriteGuard(key: string): (req: Request) => void {
  const guardedSave = endOfRequestSave(key);
  return (req) => {
    const session = (req as unknown as { session?: OurSession }).session;
    if (!session || Object.hasOwn(session, OWN_SAVE)) return;
    if (!(session[key] as OidcSessionData | undefined)?.auth) return;
    takeOver(session, guardedSave);
  };
}

/** A save of the library's own (they re-read the store themselves): through the session's own save. */
export function saveOwn(session: object, callback: SaveCallback): void {
  const ours = session as OurSession;
  (ours[OWN_SAVE] ?? ours.save).call(ours, callback);
}

/** After one of the library's own saves succeeded with `state` (taken when it started). */
export function rememberSaved(session: object, state: string): void {
  const ours = session as OurSession;
  if (!Object.hasOwn(ours, OWN_SAVE)) takeOver(ours, UNGUARDED_SAVE);
  ours[SAVED_STATE] = state;
}
