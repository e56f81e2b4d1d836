import { createHash } from 'node:crypto';
import * as client from 'openid-client';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import { verifyIdTokenSignature } from './id-token.js';
import type { TtlLock } from '../stores/lock.js';
import type { ProviderClient } from '../idp/provider-client.js';
import { assertSameLogin } from './refresh-checks.js';
import type { AuthenticatedSession, SessionPort } from '../session/session-data.js';
import { toIdpError } from '../idp/upstream-error.js';
import { ClaimsCache } from '../session/user.js';

const POLL_INTERVAL_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function lockKeyFor(refreshToken: string): string {
  return 'refresh:' + createHash('sha256').update(refreshToken).digest('base64url').slice(0, 32);
}

function loggedOut(): OidcError {
  return new OidcError('ERR_OIDC_REFRESH_FAILED', 'The session ended while its tokens were being refreshed');
}

/**
 * Single-flight refresh. In one process, concurrent requests of a session share one promise; across
 * processes the lock lets one instance redeem the refresh token while the others wait for the
 * session store to show the new tokens. The store is re-read before writing, so a logout that happened
 * meanwhile is never undone and a slower request never writes old tokens over new ones.
 */
export class TokenRefresher {
  private readonly inflight = new Map<string, Promise<AuthenticatedSession>>();
  private readonly cfg: ResolvedConfig;
  private readonly providers: (id: string) => ProviderClient;
  private readonly lock: TtlLock;
  private readonly claims: ClaimsCache;

  constructor(cfg: ResolvedConfig, providers: (id: string) => ProviderClient, lock: TtlLock, claims: ClaimsCache) {
    this.cfg = cfg;
    this.providers = providers;
    this.lock = lock;
    this.claims = claims;
  }

  /** True when the access token expires within `minTtlSec` seconds. */
  isDue(auth: AuthenticatedSession, minTtlSec: number): boolean {
    return auth.expiresAt !== undefined && auth.expiresAt - minTtlSec <= this.cfg.clock() / 1000;
  }

  /** `onRefreshed` runs once, in the request that redeemed the refresh token, after the session was saved. */
  refresh(session: SessionPort, auth: AuthenticatedSession, onRefreshed?: (auth: AuthenticatedSession) => unknown): Promise<AuthenticatedSession> {
    const refreshToken = auth.refreshToken;
    if (!refreshToken) {
      return Promise.reject(new OidcError('ERR_OIDC_REFRESH_FAILED', 'The access token expired and the session has no refresh token'));
    }
    let flight = this.inflight.get(refreshToken);
    if (!flight) {
      flight = this.lead(session, auth, refreshToken, onRefreshed).finally(() => this.inflight.delete(refreshToken));
      this.inflight.set(refreshToken, flight);
    }
    return flight;
  }

  private get lockTtlMs(): number {
    return this.cfg.httpTimeoutMs * 3 + 1000;
  }

  private async lead(
    session: SessionPort,
    auth: AuthenticatedSession,
    refreshToken: string,
    onRefreshed: ((auth: AuthenticatedSession) => unknown) | undefined,
  ): Promise<AuthenticatedSession> {
    const key = lockKeyFor(refreshToken);
    const deadline = this.cfg.clock() + this.lockTtlMs;
    while (!(await this.lock.acquire(key, this.lockTtlMs))) {
      const stored = await session.readStored();
      if (!stored?.auth) throw loggedOut();
      if (stored.auth.refreshToken !== refreshToken) return stored.auth;
      if (this.cfg.clock() > deadline) {
        throw new OidcError('ERR_OIDC_IDP_TIMEOUT', 'Another instance is refreshing this session and did not finish in time');
      }
      await sleep(POLL_INTERVAL_MS);
    }
    try {
      const stored = await session.readStored();
      if (!stored?.auth) throw loggedOut();
      if (stored.auth.refreshToken !== refreshToken) return stored.auth;
      const refreshed = await this.redeem(auth, refreshToken);
      const latest = await session.readStored();
      if (!latest?.auth) throw loggedOut();
      session.write({ ...session.read(), auth: refreshed });
      await session.save();
      this.cfg.logger.debug('oidc-session: tokens refreshed', { sub: auth.sub });
      await onRefreshed?.(refreshed);
      return refreshed;
    } finally {
      await this.lock.release(key).catch(() => undefined);
    }
  }

  private async redeem(auth: AuthenticatedSession, refreshToken: string): Promise<AuthenticatedSession> {
    const provider = await this.providers(auth.provider).get();
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(provider.config, refreshToken);
    } catch (err) {
      const error = toIdpError(err, 'refresh');
      if (error.code === 'ERR_OIDC_INVALID_ID_TOKEN') {
        throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'The refreshed ID token failed validation; the session has ended', { cause: err });
      }
      throw error;
    }
    const now = this.cfg.clock();
    let idToken = auth.idToken;
    let sid = auth.sid;
    if (tokens.id_token) {
      let claims;
      try {
        claims = await verifyIdTokenSignature(provider, tokens.id_token, now, this.cfg.clockToleranceSec);
      } catch (err) {
        throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'The refreshed ID token failed validation; the session has ended', { cause: err });
      }
      assertSameLogin(this.claims.get(auth.idToken), claims);
      idToken = tokens.id_token;
      if (typeof claims.sid === 'string') sid = claims.sid;
    }
    const expiresIn = tokens.expiresIn();
    const refreshed: AuthenticatedSession = {
      ...auth,
      idToken,
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token ?? refreshToken,
      ...(sid !== undefined ? { sid } : {}),
      ...(tokens.scope ? { scope: tokens.scope } : {}),
    };
    if (expiresIn !== undefined) refreshed.expiresAt = Math.floor(now / 1000) + expiresIn;
    else delete refreshed.expiresAt;
    return refreshed;
  }
}
