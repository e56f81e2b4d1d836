import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import { isCrossSite } from '../http/messages.js';
import type { HttpRequest } from '../http/messages.js';
import { endSessionUrl, revokeTokens } from './idp-logout.js';
import type { AuthenticatedSession, OidcSessionData, SessionPort } from '../session/session-data.js';
import { buildUser } from '../session/user.js';
import type { ClaimsCache, OidcUser } from '../session/user.js';
import type { ProviderClient } from '../idp/provider-client.js';

/** What UserSessions needs of the engine (it is one of the engine's parts, so it names no engine type). */
export interface SessionsHost {
  readonly cfg: ResolvedConfig;
  readonly claims: ClaimsCache;
  currentLogin(data: OidcSessionData | undefined): AuthenticatedSession | undefined;
  providerClient(id?: string): ProviderClient;
}

/** One session of a user, as `auth.sessions.list()` shows it: never a token. */
export interface SessionInfo {
  /** The session id (the store key). */
  id: string;
  /** The provider id of its login. */
  provider: string;
  /** When the login that created this session happened here, epoch seconds. */
  createdAt: number;
  /** When the user last authenticated at the IdP (the ID token's `auth_time`), epoch seconds, when known. */
  lastLoginAt?: number;
  /** When the session ends whatever the activity (`absoluteDuration`), epoch seconds. */
  expiresAt: number;
  /** True for the session of the request that asked (`req.oidc.logoutEverywhere()` / the sessions page). */
  current?: boolean;
}

/** Whose sessions: the user (`sub`) at one IdP (`iss`). */
export interface SessionQuery {
  sub: string;
  iss: string;
  /** With `destroy()`: only this session (it must belong to `sub`/`iss`). */
  id?: string;
}

/** The framework's session store, reached by session id (express-session's Store, koa-session's store). */
export interface SessionStoreAccess {
  read(id: string): Promise<OidcSessionData | undefined | null>;
  destroy(id: string): Promise<void>;
}

/** Options of `logoutEverywhere()`. */
export interface LogoutEverywhereOptions {
  /** Also end the session at the IdP: the result then carries the end-session URL to send the browser to. */
  idpLogout?: boolean;
}

/** What `logoutEverywhere()` ended, and where to send the browser for the IdP logout when asked. */
export interface LogoutEverywhereResult {
  /** How many sessions were ended, this one included. */
  destroyed: number;
  /** The IdP's end-session URL, with `idpLogout: true` when the IdP has one; redirect the browser there. */
  idpLogoutUrl?: string;
}

function checkQuery(query: SessionQuery, caller: string): void {
  if (typeof query !== 'object' || query === null || typeof query.sub !== 'string' || !query.sub || typeof query.iss !== 'string' || !query.iss) {
    throw new OidcError('ERR_OIDC_INVALID_CONFIG', `${caller}: { sub, iss } (non-empty strings) are required`);
  }
  if (query.id !== undefined && (typeof query.id !== 'string' || !query.id)) throw new OidcError('ERR_OIDC_INVALID_CONFIG', `${caller}: "id" must be a session id`);
}

interface Found {
  id: string;
  auth: AuthenticatedSession;
}

/**
 * A user's sessions on this app, from the session index (every instance's, with the Redis index) and
 * the store. An index entry whose session is gone or belongs to someone else is dropped on the way.
 */
export class UserSessions {
  private readonly engine: SessionsHost;

  constructor(engine: SessionsHost) {
    this.engine = engine;
  }

  private async find(store: SessionStoreAccess, query: SessionQuery): Promise<Found[]> {
    const index = this.engine.cfg.sessionIndex;
    const ids = query.id !== undefined ? (await index.find(query)).filter((id) => id === query.id) : await index.find(query);
    const found: Found[] = [];
    for (const id of ids) {
      const auth = this.engine.currentLogin((await store.read(id)) ?? undefined);
      if (auth && auth.sub === query.sub && auth.iss === query.iss) found.push({ id, auth });
      else await index.remove({ iss: query.iss, sub: query.sub }, id);
    }
    return found;
  }

  async list(store: SessionStoreAccess, query: SessionQuery, currentId?: string): Promise<SessionInfo[]> {
    checkQuery(query, 'sessions.list()');
    const found = await this.find(store, query);
    return found
      .map(({ id, auth }) => {
        const authTime = this.engine.claims.get(auth.idToken).auth_time;
        return {
          id,
          provider: auth.provider,
          createdAt: auth.authenticatedAt,
          ...(typeof authTime === 'number' ? { lastLoginAt: authTime } : {}),
          expiresAt: auth.authenticatedAt + this.engine.cfg.absoluteDurationSec,
          ...(id === currentId ? { current: true } : {}),
        };
      })
      .sort((a, b) => b.createdAt - a.createdAt);
  }

  /**
   * Ends the sessions `query` names: store record, index entry, token revocation (when `revokeTokens`),
   * then `onLogout` for each. `current`: the asking request's own session, ended through its port so
   * the framework does not save it back. Stops at the first store failure (503 with Redis): what was
   * destroyed stays destroyed, the rest is untouched, and calling again finishes the job.
   */
  async destroy(store: SessionStoreAccess, query: SessionQuery, appReq: unknown, current?: SessionPort): Promise<number> {
    checkQuery(query, 'sessions.destroy()');
    const found = await this.find(store, query);
    const currentId = current?.id();
    const currentAuth = current ? this.engine.currentLogin(current.read()) : undefined;
    // The asking session even when the index lost it (or it predates the index): "everywhere" includes here.
    if (currentId !== undefined && currentAuth && query.id === undefined && currentAuth.sub === query.sub && currentAuth.iss === query.iss && !found.some((f) => f.id === currentId)) {
      found.push({ id: currentId, auth: currentAuth });
    }
    // The asking request's session last, so a failure on another one leaves the user logged in here to retry.
    found.sort((a, b) => Number(a.id === currentId) - Number(b.id === currentId));
    const { cfg } = this.engine;
    for (const { id, auth } of found) {
      if (id === currentId && current) await current.destroy();
      else await store.destroy(id);
      await cfg.sessionIndex.remove(auth, id).catch(() => undefined);
      if (cfg.revokeTokens) {
        const provider = await this.engine.providerClient(auth.provider).get().catch(() => undefined);
        if (provider) await revokeTokens(cfg, provider, auth);
      }
      const user = (auth.user as OidcUser | undefined) ?? buildUser(this.engine.claims.get(auth.idToken), auth.userinfo);
      await cfg.onLogout?.({ user, provider: auth.provider, req: appReq });
    }
    cfg.logger.info('oidc-session: sessions ended', { sub: query.sub, sessions: found.length });
    return found.length;
  }

  /** `req.oidc.logoutEverywhere()`: every session of the logged-in user on this app, this one included. */
  async logoutEverywhere(store: SessionStoreAccess, req: HttpRequest, session: SessionPort, appReq: unknown, options: LogoutEverywhereOptions = {}): Promise<LogoutEverywhereResult> {
    if (isCrossSite(req, this.engine.cfg.origin)) throw new OidcError('ERR_OIDC_CROSS_SITE_REQUEST', 'Logging out everywhere must be started from this site');
    const auth = this.engine.currentLogin(session.read());
    if (!auth) throw new OidcError('ERR_OIDC_UNAUTHENTICATED', 'Not logged in');
    // The URL needs the ID token, which goes with the session: build it first.
    const idpLogout = options.idpLogout ?? false;
    const target = idpLogout ? endSessionUrl(this.engine.cfg, await this.engine.providerClient(auth.provider).get(), auth) : undefined;
    const destroyed = await this.destroy(store, { sub: auth.sub, iss: auth.iss }, appReq, session);
    return { destroyed, ...(target ? { idpLogoutUrl: target.href } : {}) };
  }
}

/** `auth.sessions`: the sessions of any user, for an admin page or a "log out everywhere" of your own. */
export interface SessionsApi {
  /** The user's sessions on this app (id, provider, times; never tokens), newest first. */
  list(query: SessionQuery): Promise<SessionInfo[]>;
  /** Ends the user's sessions (or only `id`), calling `onLogout` for each (`req` is undefined); resolves to how many. */
  destroy(query: SessionQuery): Promise<number>;
}

/** `store()`: the framework's store, known once the middleware has seen a request (undefined before). */
export function createSessionsApi(sessions: UserSessions, store: () => SessionStoreAccess | undefined): SessionsApi {
  const known = (): SessionStoreAccess => {
    const found = store();
    if (!found) {
      throw new OidcError('ERR_OIDC_NOT_MOUNTED', 'auth.sessions needs the session store, which oidc() learns from the first request it handles: mount it after the session middleware');
    }
    return found;
  };
  return {
    list: async (query) => sessions.list(known(), query),
    destroy: async (query) => sessions.destroy(known(), query, undefined),
  };
}
