type SaveCallback = (err?: unknown) => void;
type Save = (this: SavedSession, callback?: SaveCallback) => unknown;

/** What the store was last given by one of our own saves (the session as JSON, its cookie left out). */
const SAVED_STATE: unique symbol = Symbol('oidc-session.savedState');
/** The session's `save` from before rememberSaved() covered it: our own saves go through this one. */
const SAVE_BENEATH: unique symbol = Symbol('oidc-session.saveBeneath');

interface SavedSession {
  save: Save;
  [SAVED_STATE]?: string;
  [SAVE_BENEATH]?: Save;
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

/** Shared by every session: a request costs no closure. */
function saveUnlessUnchanged(this: SavedSession, callback?: SaveCallback): SavedSession {
  if (this[SAVED_STATE] !== undefined && this[SAVED_STATE] === savedStateOf(this)) {
    // Asynchronous like a store's answer, so callers see the order they would see after a real write.
    if (callback) queueMicrotask(() => callback());
    return this;
  }
  (this[SAVE_BENEATH] as Save).call(this, callback);
  return this;
}

/** The save our own writes use: the one beneath the unchanged-save check when it is in place. */
export function saveBeneath(session: object): Save | undefined {
  return (session as SavedSession)[SAVE_BENEATH];
}

/**
 * After one of our own saves (login, refresh, logout) succeeded with `state` (taken when it started):
 * the save express-session makes again at the end of the request is skipped when the session has not
 * changed since. express-session tells by itself for the session it loaded, but not after regenerate()
 * (the new session's save is not its wrapped one), so every login was written twice: one more store
 * round trip per login. A change made after our save is still written.
 */
export function rememberSaved(session: object, state: string): void {
  const saved = session as SavedSession;
  if (!Object.hasOwn(saved, SAVE_BENEATH)) {
    saved[SAVE_BENEATH] = saved.save;
    // Not enumerable: after regenerate() `save` is the prototype's, and an own data property would show up in Object.keys().
    Object.defineProperty(saved, 'save', { configurable: true, enumerable: false, writable: true, value: saveUnlessUnchanged });
  }
  saved[SAVED_STATE] = state;
}
