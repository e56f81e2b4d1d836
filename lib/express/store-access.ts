import type { Request } from 'express';
import { OidcError } from '../core/errors.js';
import type { OidcSessionData } from '../core/session/session-data.js';
import type { SessionStoreAccess } from '../core/logout/user-sessions.js';

/** The express-session Store methods the sessions API uses. */
export interface ExpressStore {
  get(sid: string, callback: (err: unknown, session?: Record<string, unknown> | null) => void): void;
  destroy(sid: string, callback: (err?: unknown) => void): void;
}

function storeError(action: string, err: unknown): OidcError {
  return err instanceof OidcError ? err : new OidcError('ERR_OIDC_SESSION_STORE', `The session store failed to ${action} a session`, { cause: err });
}

/** The store express-session put on this request (`req.sessionStore`), if any. */
export function storeOfRequest(req: Request): ExpressStore | undefined {
  return (req as unknown as { sessionStore?: ExpressStore }).sessionStore;
}

/** Any session of express-session's store, by id (the sessions API and logoutEverywhere()). */
export function expressStoreAccess(store: ExpressStore, key: string): SessionStoreAccess {
  return {
    read: (id) =>
      new Promise<OidcSessionData | undefined | null>((resolve, reject) => {
        store.get(id, (err, stored) => (err ? reject(storeError('read', err)) : resolve(stored ? (stored[key] as OidcSessionData | undefined) : null)));
      }),
    destroy: (id) => new Promise<void>((resolve, reject) => store.destroy(id, (err) => (err ? reject(storeError('destroy', err)) : resolve()))),
  };
}
