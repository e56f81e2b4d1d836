import { OidcError } from '../core/errors.js';
import type { OidcSessionData } from '../core/session/session-data.js';
import type { SessionStoreAccess } from '../core/logout/user-sessions.js';
import type { KoaSessionStore } from './session-port.js';

function storeError(action: string, err: unknown): OidcError {
  return err instanceof OidcError ? err : new OidcError('ERR_OIDC_SESSION_STORE', `The session store failed to ${action} a session`, { cause: err });
}

/** Any session of koa-session's external store, by its key (the sessions API and logoutEverywhere()). */
export function koaStoreAccess(store: KoaSessionStore, key: string, maxAge: number | 'session' | undefined, ctx?: unknown): SessionStoreAccess {
  return {
    async read(id) {
      let stored: unknown;
      try {
        stored = await store.get(id, maxAge, { rolling: false, ...(ctx ? { ctx } : {}) });
      } catch (err) {
        throw storeError('read', err);
      }
      if (!stored || typeof stored !== 'object') return null;
      const record = stored as Record<string, unknown>;
      // koa-session's own expiry (it stores `_expire` beside the data).
      if (typeof record._expire === 'number' && record._expire < Date.now()) return null;
      return record[key] as OidcSessionData | undefined;
    },
    async destroy(id) {
      try {
        await store.destroy(id, ctx ? { ctx } : {});
      } catch (err) {
        throw storeError('destroy', err);
      }
    },
  };
}
