import { createHash } from 'node:crypto';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import type { TtlLock } from '../stores/lock.js';
import type { DpopFor } from './dpop-keys.js';
import type { ProviderClient } from '../idp/provider-client.js';
import { RefreshBackoff } from './refresh-backoff.js';
import { redeemRefreshToken } from './refresh-grant.js';
import type { AuthenticatedSession, SessionPort } from '../session/session-data.js';
import type { ClaimsCache } from '../session/user.js';

const POLL_INTERVAL_MS = 50;
/** Most refresh results kept in memory while the session store cannot take them. */
const MAX_UNSAVED = 10_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function lockKeyFor(refreshToken: string): string {
  return 'refresh:' + createHash('sha256').update(refreshToken).digest('base64url').slice(0, 32);
}

function loggedOut(): OidcError {
  return new OidcError('ERR_OIDC_REFRESH_FAILED', 'The session ended while its tokens were being refreshed');
}

/** The IdP refused the refresh (invalid_grant, a bad refreshed ID token): the login is over. */
export function isRefusal(err: unknown): boolean {
  return err instanceof OidcError && err.code === 'ERR_OIDC_REFRESH_FAILED';
}

/** The IdP could not give an answer (unreachable, 5xx, too slow): the login itself is still valid. */
export function isIdpFailure(err: unknown): err is OidcError {
  return err instanceof OidcError && IDP_FAILURES.has(err.code);
}
const IDP_FAILURES = new Set(['ERR_OIDC_TOKEN_REQUEST_FAILED', 'ERR_OIDC_IDP_TIMEOUT', 'ERR_OIDC_DISCOVERY_FAILED', 'ERR_OIDC_IDP_ERROR']);

interface Flight {
  done: Promise<AuthenticatedSession>;
  /** Set once the flight outlasted `httpTimeout`: later requests do not wait for it again. */
  slow?: OidcError;
}

/**
 * Single-flight refresh. In one process, concurrent requests of a session share one flight; across
 * processes the RefreshLock lets one instance redeem the refresh token while the others wait for the
 * session store to show the new tokens. The store is re-read before writing, so a logout that happened
 * meanwhile is never undone and a slower request never writes old tokens over new ones.
 *
 * A redemption whose outcome is unknown is never repeated and its answer never thrown away: requests
 * wait for it at most `httpTimeout`, but the flight itself gives the IdP longer (`redeemTimeoutMs`) and
 * keeps the lock until it is settled. When the store cannot take the new tokens, they are kept here and
 * saved by the session's next request (an IdP that rotates refresh tokens would refuse the old one).
 */
export class TokenRefresher {
  private readonly inflight = new Map<string, Flight>();
  /** Refreshed logins the store could not take yet, by the lock key of the refresh token they replace. */
  private readonly unsaved = new Map<string, AuthenticatedSession>();
  private readonly cfg: ResolvedConfig;
  private readonly providers: (id: string) => ProviderClient;
  private readonly lock: TtlLock;
  private readonly claims: ClaimsCache;
  private readonly dpop: DpopFor | undefined;
  private readonly backoff: RefreshBackoff;

  constructor(cfg: ResolvedConfig, providers: (id: string) => ProviderClient, lock: TtlLock, claims: ClaimsCache, dpop?: DpopFor) {
    this.cfg = cfg;
    this.dpop = dpop;
    this.providers = providers;
    this.lock = lock;
    this.claims = claims;
    this.backoff = new RefreshBackoff(cfg.clock, cfg.logger);
  }

  /** True when the access token expires within `minTtlSec` seconds. */
  isDue(auth: AuthenticatedSession, minTtlSec: number): boolean {
    return auth.expiresAt !== undefined && auth.expiresAt - minTtlSec <= this.cfg.clock() / 1000;
  }

  /**
   * The login with an access token valid for `minTtlSec` more seconds. A refusal ends the login (and
   * throws ERR_OIDC_REFRESH_FAILED); an IdP that cannot answer throws and leaves the login as it is.
   */
  async fresh(session: SessionPort, auth: AuthenticatedSession, minTtlSec: number, onRefreshed?: (auth: AuthenticatedSession) => unknown): Promise<AuthenticatedSession> {
    try {
      auth = await this.latest(session, auth);
      if (!this.isDue(auth, minTtlSec)) return auth;
      return await this.refresh(session, auth, onRefreshed);
    } catch (err) {
      if (isRefusal(err)) await this.endLogin(session, auth);
      throw err;
    }
  }

  /** Ends the login after a refusal (invalid_grant, a bad refreshed ID token). */
  async endLogin(session: SessionPort, auth: AuthenticatedSession): Promise<void> {
    const stored = await session.readStored().catch(() => undefined);
    if (stored === null) {
      // Logged out elsewhere meanwhile: start from a clean session rather than saving this stale copy back.
      await session.regenerate().catch(() => undefined);
    } else {
      const { auth: _ended, ...rest } = session.read() ?? {};
      session.write(rest);
      await session.save().catch(() => undefined);
    }
    await this.cfg.sessionIndex.remove(auth, session.id()).catch(() => undefined);
    this.cfg.logger.info('oidc-session: login ended by a failed refresh', { sub: auth.sub });
  }

  /** The IdP gets this long to answer a redemption, after the requests waiting for it gave up. */
  private get redeemTimeoutMs(): number {
    return Math.max(30_000, this.cfg.httpTimeoutMs * 3);
  }

  private get lockTtlMs(): number {
    return this.redeemTimeoutMs + this.cfg.httpTimeoutMs + 1000;
  }

  /**
   * A refresh of this login that was redeemed but not saved yet: it replaces the session's tokens, and
   * the session is saved with it (when the store answers again).
   */
  private async latest(session: SessionPort, auth: AuthenticatedSession): Promise<AuthenticatedSession> {
    if (!auth.refreshToken || this.unsaved.size === 0) return auth;
    const key = lockKeyFor(auth.refreshToken);
    const kept = this.unsaved.get(key);
    if (!kept || kept.sub !== auth.sub) return auth;
    try {
      await this.store(session, kept);
      this.unsaved.delete(key);
      await this.lock.release(key).catch(() => undefined);
      this.cfg.logger.info('oidc-session: refreshed tokens saved after a store outage', { sub: auth.sub });
    } catch (err) {
      if (isRefusal(err)) {
        this.unsaved.delete(key);
        throw err;
      }
    }
    return kept;
  }

  /**
   * `onRefreshed` runs once, in the request that redeemed the refresh token, after the session was saved.
   * Rejects with ERR_OIDC_IDP_TIMEOUT after `httpTimeout` while the flight goes on.
   */
  private refresh(session: SessionPort, auth: AuthenticatedSession, onRefreshed?: (auth: AuthenticatedSession) => unknown): Promise<AuthenticatedSession> {
    const refreshToken = auth.refreshToken;
    if (!refreshToken) {
      return Promise.reject(new OidcError('ERR_OIDC_REFRESH_FAILED', 'The access token expired and the session has no refresh token'));
    }
    const key = lockKeyFor(refreshToken);
    let flight = this.inflight.get(key);
    if (!flight) {
      let settled: () => void;
      try {
        settled = this.backoff.enter(auth.provider);
      } catch (err) {
        return Promise.reject(err);
      }
      const done = this.lead(session, auth, refreshToken, key, onRefreshed).finally(() => {
        this.inflight.delete(key);
        settled();
      });
      // Nobody may be waiting any more when it settles.
      done.catch(() => undefined);
      flight = { done };
      this.inflight.set(key, flight);
    }
    return this.bounded(flight, auth.provider);
  }

  private bounded(flight: Flight, provider: string): Promise<AuthenticatedSession> {
    if (flight.slow) return Promise.reject(flight.slow);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        if (!flight.slow) {
          flight.slow = new OidcError('ERR_OIDC_IDP_TIMEOUT', "The IdP's token endpoint (refresh) did not answer in time; a late answer is still saved");
          this.backoff.failed(provider, flight.slow);
        }
        reject(flight.slow);
      }, this.cfg.httpTimeoutMs);
    });
    return Promise.race([flight.done, waited]).finally(() => clearTimeout(timer));
  }

  private async lead(
    session: SessionPort,
    auth: AuthenticatedSession,
    refreshToken: string,
    key: string,
    onRefreshed: ((auth: AuthenticatedSession) => unknown) | undefined,
  ): Promise<AuthenticatedSession> {
    const deadline = this.cfg.clock() + this.lockTtlMs;
    while (!(await this.lock.acquire(key, this.lockTtlMs))) {
      const stored = await session.readStored();
      if (!stored?.auth) throw loggedOut();
      if (stored.auth.refreshToken !== refreshToken || stored.auth.accessToken !== auth.accessToken) return stored.auth;
      if (this.cfg.clock() > deadline) {
        throw new OidcError('ERR_OIDC_IDP_TIMEOUT', 'Another instance is refreshing this session and did not finish in time');
      }
      await sleep(POLL_INTERVAL_MS);
    }
    let keepLock = false;
    try {
      const stored = await session.readStored();
      if (!stored?.auth) throw loggedOut();
      // Another request or instance refreshed already (a new refresh token, or a new access token when
      // the IdP does not rotate).
      if (stored.auth.refreshToken !== refreshToken || stored.auth.accessToken !== auth.accessToken) return stored.auth;
      let refreshed: AuthenticatedSession;
      try {
        const provider = await this.providers(auth.provider).get();
        refreshed = await redeemRefreshToken(this.cfg, provider, this.claims, auth, refreshToken, this.redeemTimeoutMs, await this.dpop?.(auth));
      } catch (err) {
        if (isIdpFailure(err)) this.backoff.failed(auth.provider, err);
        throw err;
      }
      this.backoff.succeeded(auth.provider);
      try {
        await this.store(session, refreshed);
      } catch (err) {
        if (isRefusal(err)) throw err;
        // Redeemed at the IdP but not saved: keep it (and the lock, so no instance redeems the old token).
        keepLock = true;
        if (this.unsaved.size >= MAX_UNSAVED) this.unsaved.delete(this.unsaved.keys().next().value as string);
        this.unsaved.set(key, refreshed);
        this.cfg.logger.warn('oidc-session: refreshed tokens could not be saved; kept until the store answers', {
          sub: auth.sub,
          code: (err as { code?: string }).code,
        });
        return refreshed;
      }
      this.cfg.logger.debug('oidc-session: tokens refreshed', { sub: auth.sub });
      await onRefreshed?.(refreshed);
      return refreshed;
    } finally {
      if (!keepLock) await this.lock.release(key).catch(() => undefined);
    }
  }

  /** Writes the refreshed login, unless the session was logged out meanwhile. */
  private async store(session: SessionPort, refreshed: AuthenticatedSession): Promise<void> {
    const latest = await session.readStored();
    if (!latest?.auth) throw loggedOut();
    session.write({ ...session.read(), auth: refreshed });
    await session.save();
  }
}
