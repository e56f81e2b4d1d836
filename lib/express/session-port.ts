import type { Request } from 'express';
import { OidcError } from '../core/errors.js';
import { assertCookieDeliverable } from './cookie-check.js';
import type { OidcSessionData, SessionPort } from '../core/session/session-data.js';
import { sessionStoreError } from '../core/session/store-error.js';
import { rememberSaved, saveOwn, savedStateOf } from './end-of-request-save.js';

type SessionCallback = (err?: unknown) => void;
interface ExpressSession {
  id: string;
  regenerate(callback: SessionCallback): unknown;
  save(callback: SessionCallback): unknown;
  destroy(callback: SessionCallback): unknown;
  [key: string]: unknown;
}
interface ExpressSessionStore {
  get(sid: string, callback: (err: unknown, session?: Record<string, unknown> | null) => void): void;
  destroy(sid: string, callback: SessionCallback): void;
}
interface RequestWithSession {
  session?: ExpressSession;
  sessionStore?: ExpressSessionStore;
}

const MISSING_SESSION =
  'req.session is missing: mount express-session before oidc(), e.g. app.use(session({ secret, resave: false, saveUninitialized: false }))';
/** Keys express-session itself owns inside the session object. */
const SESSION_OWN_KEYS = new Set(['cookie', 'id', 'req']);

/** Marks a session shortened by expireAfter(). */
export const lifetimeKey = (key: string): string => `${key}:maxAge`;

function appData(session: ExpressSession, key: string): Record<string, unknown> {
  const own = lifetimeKey(key);
  return Object.fromEntries(
    Object.entries(session).filter(([name, value]) => name !== key && name !== own && !SESSION_OWN_KEYS.has(name) && typeof value !== 'function'),
  );
}

function sessionOf(req: Request): ExpressSession {
  const session = (req as unknown as RequestWithSession).session;
  if (!session) throw new OidcError('ERR_OIDC_NO_SESSION', MISSING_SESSION);
  return session;
}

function storeOf(req: Request): ExpressSessionStore {
  const store = (req as unknown as RequestWithSession).sessionStore;
  if (!store) throw new OidcError('ERR_OIDC_NO_SESSION', MISSING_SESSION);
  return store;
}

function sessionCall(req: Request, method: 'regenerate' | 'save' | 'destroy'): Promise<void> {
  return new Promise((resolve, reject) => {
    const session = sessionOf(req);
    const done = (err?: unknown) => (err ? reject(sessionStoreError(method, err)) : resolve());
    if (method !== 'save') return void session[method](done);
    // Our own saves re-read the store themselves; they skip the end-of-request rules and always write.
    const state = savedStateOf(session);
    saveOwn(session, (err?: unknown) => {
      if (!err) rememberSaved(session, state);
      done(err);
    });
  });
}

/** Destroys any session in express-session's store by id. */
export function destroyStoredSession(req: Request, sessionId: string): Promise<void> {
  const store = storeOf(req);
  return new Promise((resolve, reject) => store.destroy(sessionId, (err) => (err ? reject(sessionStoreError('destroy', err)) : resolve())));
}

/**
 * express-session behind the core's Promise-based SessionPort. `req.session` is looked up on every call
 * because regenerate() replaces the object.
 */
export function expressSessionPort(req: Request, key: string): SessionPort {
  sessionOf(req);
  return {
    id: () => sessionOf(req).id,
    read: () => sessionOf(req)[key] as OidcSessionData | undefined,
    readStored: () => {
      const store = storeOf(req);
      const id = sessionOf(req).id;
      return new Promise((resolve, reject) => {
        store.get(id, (err, stored) => (err ? reject(sessionStoreError('read', err)) : resolve(stored ? (stored[key] as OidcSessionData | undefined) : null)));
      });
    },
    write: (data) => {
      const session = sessionOf(req);
      if (data === undefined) delete session[key];
      else session[key] = data;
    },
    readAppData: () => appData(sessionOf(req), key),
    writeAppData: (data) => Object.assign(sessionOf(req), data),
    // express-session keeps the cookie in the session: its expiry is the store's TTL (connect-redis,
    // MemoryStore), and regenerate() starts again from the app's cookie options.
    expireAfter: (ttlMs) => {
      const session = sessionOf(req);
      session[lifetimeKey(key)] = true;
      (session.cookie as { maxAge: number | null }).maxAge = ttlMs;
    },
    regenerate: () => sessionCall(req, 'regenerate'),
    save: () => sessionCall(req, 'save'),
    destroy: () => sessionCall(req, 'destroy'),
    assertCookieDeliverable: () => assertCookieDeliverable(req),
  };
}

/** True when a session shortened while it held only pending logins has since received the app's own data. */
export function needsAppLifetime(req: Request, key: string, marker: string): boolean {
  const session = (req as unknown as RequestWithSession).session;
  return !!session && Object.hasOwn(session, marker) && Object.keys(appData(session, key)).length > 0;
}

/**
 * Gives such a session (a cart added after a login was started and given up) the app's lifetime back:
 * from now on it is the app's session. A new session with the same data, because express-session sends
 * a browser-session cookie only for a new session id: the browser would keep the short one otherwise.
 */
export async function restoreAppLifetime(req: Request, key: string): Promise<void> {
  const session = sessionOf(req);
  const data = appData(session, key);
  const ours = session[key];
  await sessionCall(req, 'regenerate');
  Object.assign(sessionOf(req), data, ours === undefined ? {} : { [key]: ours });
}

export function readSessionData(req: Request, key: string): OidcSessionData | undefined {
  const session = (req as unknown as RequestWithSession).session;
  return session?.[key] as OidcSessionData | undefined;
}
