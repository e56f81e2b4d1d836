import { ResponseBodyError } from 'openid-client';
import * as client from 'openid-client';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { OidcError } from '../errors.js';
import type { RefreshLock } from '../stores/lock.js';
import type { DpopFor } from './dpop-keys.js';
import type { ProviderClient } from '../idp/provider-client.js';
import { lockKeyFor } from './refresh.js';
import type { AuthenticatedSession, ResourceToken, SessionPort } from '../session/session-data.js';
import { toIdpError } from '../idp/upstream-error.js';

const POLL_INTERVAL_MS = 50;
/** How often a flight starts over because another request rotated the refresh token meanwhile. */
const MAX_RESTARTS = 3;
/** OAuth errors by which the IdP refuses this resource or scope, not the refresh token itself. */
const REFUSALS = new Set(['invalid_target', 'invalid_scope', 'unauthorized_client', 'access_denied']);

/** `getAccessToken({ resource, scope })` after validation. */
export interface ResourceRequest {
  resource: string;
  /** Normalised: unique, sorted, space-separated; undefined when none was asked for. */
  scope: string | undefined;
  minTtlSec: number;
}

export interface ResourceResult {
  token: ResourceToken;
  /** The login as stored after the call (a rotated refresh token, the new cache entry). */
  auth: AuthenticatedSession;
}

/** RFC 8707 §2: an absolute URI without a fragment. Checked here so the IdP never sees a malformed one. */
export function resourceRequest(options: { resource?: unknown; scope?: unknown; minTtl?: unknown }, caller: string): ResourceRequest {
  const { resource, scope, minTtl } = options;
  let url: URL | undefined;
  try {
    url = typeof resource === 'string' ? new URL(resource) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || typeof resource !== 'string' || resource.includes('#') || /\s/.test(resource)) {
    throw new OidcError('ERR_OIDC_INVALID_CONFIG', `${caller}: "resource" must be an absolute URI without a fragment`);
  }
  if (scope !== undefined && (typeof scope !== 'string' || !/^[\x21\x23-\x5B\x5D-\x7E ]*$/.test(scope))) {
    throw new OidcError('ERR_OIDC_INVALID_CONFIG', `${caller}: "scope" must be a space-separated string of scope values`);
  }
  if (minTtl !== undefined && (typeof minTtl !== 'number' || !Number.isFinite(minTtl) || minTtl < 0)) {
    throw new OidcError('ERR_OIDC_INVALID_CONFIG', `${caller}: "minTtl" must be a number of seconds`);
  }
  const scopes = [...new Set((scope ?? '').split(' ').filter(Boolean))].sort();
  return { resource, scope: scopes.length ? scopes.join(' ') : undefined, minTtlSec: minTtl ?? 60 };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function loggedOut(): OidcError {
  return new OidcError('ERR_OIDC_REFRESH_FAILED', 'The session ended while a token for an API was being obtained');
}

/** The cached token for the request, when it lives `minTtlSec` more and covers every scope asked for. */
export function cachedResourceToken(auth: AuthenticatedSession, request: ResourceRequest, nowSec: number): ResourceToken | undefined {
  const entry = auth.resourceTokens?.[request.resource];
  if (!entry) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt - request.minTtlSec <= nowSec) return undefined;
  if (request.scope) {
    const granted = new Set((entry.scope ?? '').split(' '));
    if (!request.scope.split(' ').every((s) => granted.has(s))) return undefined;
  }
  return entry;
}

/** The cache with `token` added: expired entries dropped, then the oldest ones beyond `max`. */
function withToken(current: Record<string, ResourceToken> | undefined, resource: string, token: ResourceToken, max: number, nowSec: number): Record<string, ResourceToken> {
  const kept = Object.entries(current ?? {}).filter(([key, entry]) => key !== resource && (entry.expiresAt === undefined || entry.expiresAt > nowSec));
  kept.sort((a, b) => a[1].obtainedAt - b[1].obtainedAt);
  const out = Object.fromEntries(kept.slice(Math.max(0, kept.length - (max - 1))));
  out[resource] = token;
  return out;
}

/**
 * Tokens for other APIs with the session's refresh token (RFC 8707 `resource` on the refresh request),
 * cached in the session per resource. Single flight per (refresh token, resource, scope) in-process; the
 * RefreshLock is the main refresh's own (keyed by the refresh token), because a rotating IdP consumes the
 * refresh token on every use and a second concurrent use would revoke the whole grant.
 */
export class ResourceTokens {
  private readonly inflight = new Map<string, Promise<ResourceResult>>();
  private readonly cfg: ResolvedConfig;
  private readonly providers: (id: string) => ProviderClient;
  private readonly lock: RefreshLock;
  private readonly dpop: DpopFor | undefined;

  constructor(cfg: ResolvedConfig, providers: (id: string) => ProviderClient, lock: RefreshLock, dpop?: DpopFor) {
    this.cfg = cfg;
    this.dpop = dpop;
    this.providers = providers;
    this.lock = lock;
  }

  private get nowSec(): number {
    return this.cfg.clock() / 1000;
  }

  get(session: SessionPort, auth: AuthenticatedSession, request: ResourceRequest): Promise<ResourceResult> {
    const hit = cachedResourceToken(auth, request, this.nowSec);
    if (hit) return Promise.resolve({ token: hit, auth });
    const refreshToken = auth.refreshToken;
    if (!refreshToken) {
      return Promise.reject(new OidcError('ERR_OIDC_RESOURCE_REFUSED', 'A token for another API needs a refresh token, and this login has none'));
    }
    const key = `${refreshToken}\n${request.resource}\n${request.scope ?? ''}`;
    let flight = this.inflight.get(key);
    if (!flight) {
      flight = this.lead(session, auth, refreshToken, request, 0).finally(() => this.inflight.delete(key));
      this.inflight.set(key, flight);
    }
    return flight;
  }

  private async lead(session: SessionPort, auth: AuthenticatedSession, refreshToken: string, request: ResourceRequest, restarts: number): Promise<ResourceResult> {
    const lockKey = lockKeyFor(refreshToken);
    const ttlMs = this.cfg.httpTimeoutMs * 3 + 1000;
    const deadline = this.cfg.clock() + ttlMs;
    let newer: AuthenticatedSession | undefined;
    while (!(await this.lock.acquire(lockKey, ttlMs))) {
      const stored = await session.readStored();
      if (!stored?.auth) throw loggedOut();
      if (stored.auth.refreshToken !== refreshToken) {
        newer = stored.auth;
        break;
      }
      if (this.cfg.clock() > deadline) throw new OidcError('ERR_OIDC_IDP_TIMEOUT', 'Another request is using this refresh token and did not finish in time');
      await sleep(POLL_INTERVAL_MS);
    }
    if (!newer) {
      try {
        const stored = await session.readStored();
        if (!stored?.auth) throw loggedOut();
        if (stored.auth.refreshToken === refreshToken) return await this.redeem(session, auth, refreshToken, request);
        newer = stored.auth;
      } finally {
        await this.lock.release(lockKey).catch(() => undefined);
      }
    }
    // Another request redeemed the refresh token meanwhile: its answer may be ours, else use the new one.
    const hit = cachedResourceToken(newer, request, this.nowSec);
    if (hit) return { token: hit, auth: newer };
    if (!newer.refreshToken || restarts >= MAX_RESTARTS) {
      throw new OidcError('ERR_OIDC_IDP_TIMEOUT', 'The refresh token kept changing while a token for an API was being obtained');
    }
    return this.lead(session, newer, newer.refreshToken, request, restarts + 1);
  }

  private async redeem(session: SessionPort, auth: AuthenticatedSession, refreshToken: string, request: ResourceRequest): Promise<ResourceResult> {
    const provider = await this.providers(auth.provider).get();
    const params: Record<string, string> = { resource: request.resource, ...(request.scope ? { scope: request.scope } : {}) };
    let tokens: Awaited<ReturnType<typeof client.refreshTokenGrant>>;
    try {
      tokens = await client.refreshTokenGrant(provider.config, refreshToken, params, await this.dpop?.(auth));
    } catch (err) {
      if (err instanceof ResponseBodyError && REFUSALS.has(err.error)) {
        throw new OidcError('ERR_OIDC_RESOURCE_REFUSED', `The IdP refused a token for this API (${err.error})`, { cause: err, idpError: err.error });
      }
      const error = toIdpError(err, 'refresh');
      if (error.code === 'ERR_OIDC_INVALID_ID_TOKEN') {
        throw new OidcError('ERR_OIDC_REFRESH_FAILED', 'The refreshed ID token failed validation; the session has ended', { cause: err });
      }
      throw error;
    }
    const nowSec = Math.floor(this.nowSec);
    const expiresIn = tokens.expiresIn();
    const scope = tokens.scope ?? request.scope;
    const token: ResourceToken = {
      accessToken: tokens.access_token,
      ...(tokens.token_type && tokens.token_type.toLowerCase() !== 'bearer' ? { tokenType: tokens.token_type } : {}),
      ...(expiresIn !== undefined ? { expiresAt: nowSec + expiresIn } : {}),
      ...(scope ? { scope } : {}),
      obtainedAt: nowSec,
    };
    // The login as the store has it now (a logout meanwhile is never undone); only the refresh token and
    // this cache entry change. A new ID token in this answer is not adopted: the main refresh owns that.
    const latest = (await session.readStored())?.auth;
    if (!latest) throw loggedOut();
    const updated: AuthenticatedSession = {
      ...latest,
      refreshToken: tokens.refresh_token ?? refreshToken,
      resourceTokens: withToken(latest.resourceTokens, request.resource, token, this.cfg.maxResourceTokens, nowSec),
    };
    session.write({ ...session.read(), auth: updated });
    await session.save();
    this.cfg.logger.debug('oidc-session: token obtained for a resource', { sub: auth.sub, resource: request.resource });
    return { token, auth: updated };
  }
}
