import type { Context } from 'koa';
import { OidcError } from '../core/errors.js';
import { assertCookieDeliverable } from './cookie-check.js';
import type { OidcSessionData, SessionPort } from '../core/session/session-data.js';
import { keepNewerLogin } from '../core/session/stale-write.js';
import { sessionStoreError } from '../core/session/store-error.js';

/** The parts of koa-session 7's Session object we use. */
interface KoaSession {
  /** The store key. Fixed when the object is created: after `regenerate()` only a new object reports the new key. */
  readonly externalKey?: string;
  save(): Promise<void>;
  regenerate(): Promise<void>;
  toJSON(): Record<string, unknown>;
  [key: string]: unknown;
}

/** koa-session's external store contract (`store` option, or an instance of `ContextStore`). */
export interface KoaSessionStore {
  /** The session stored under `key`, or undefined. */
  get(key: string, maxAge: number | 'session' | undefined, options: { rolling: boolean; ctx?: unknown }): Promise<unknown>;
  /** Stores `session` under `key`. */
  set(key: string, session: Record<string, unknown>, maxAge: number | 'session' | undefined, options: { rolling: boolean; changed: boolean; ctx?: unknown }): Promise<void>;
  /** Deletes the session stored under `key`. */
  destroy(key: string, options: { ctx?: unknown }): Promise<void>;
}

interface KoaSessionOptions {
  maxAge?: number | 'session';
  store?: KoaSessionStore;
  ContextStore?: new (ctx: unknown) => KoaSessionStore;
}

/** koa-session defines `session` and `sessionOptions` on `app.context` when `session(opts, app)` runs. */
interface ContextWithSession {
  session?: KoaSession | Record<string, unknown> | null;
  readonly sessionOptions?: KoaSessionOptions;
}

const MISSING_SESSION =
  'ctx.session is missing: mount koa-session with an external store before oidc(), e.g. app.use(session({ store }, app))';
const COOKIE_SESSION =
  'koa-session has no external store, so the session (and the tokens in it) would be kept in the cookie: ' +
  'pass a server-side store, e.g. app.use(session({ store }, app))';

function withSession(ctx: Context): ContextWithSession {
  return ctx as unknown as ContextWithSession;
}

/** koa-session's options for this app; refuses a missing or cookie-only koa-session. */
function sessionOptionsOf(ctx: Context): KoaSessionOptions {
  const options = withSession(ctx).sessionOptions;
  if (!options) throw new OidcError('ERR_OIDC_NO_SESSION', MISSING_SESSION);
  if (!options.store && !options.ContextStore) throw new OidcError('ERR_OIDC_COOKIE_SESSION', COOKIE_SESSION);
  return options;
}

/** The external store koa-session uses for this request (a ContextStore is instantiated per request, as koa-session does). */
export function sessionStoreOf(ctx: Context): KoaSessionStore {
  const options = sessionOptionsOf(ctx);
  return options.store ?? new (options.ContextStore as NonNullable<KoaSessionOptions['ContextStore']>)(ctx);
}

/** Destroys any session in koa-session's external store by its key (back-channel logout). */
export async function destroyStoredSession(ctx: Context, key: string): Promise<void> {
  try {
    await sessionStoreOf(ctx).destroy(key, { ctx });
  } catch (err) {
    throw sessionStoreError('destroy', err);
  }
}

export function readSessionData(ctx: Context, key: string): OidcSessionData | undefined {
  return withSession(ctx).session?.[key] as OidcSessionData | undefined;
}

/**
 * koa-session 7 behind the core's SessionPort, one per request. `ctx.session` is looked up on every call
 * because regenerate() and destroy() replace it. The session id is koa-session's external key: the
 * cookie value and the store key (koa-session's `prefix` option is already part of it).
 */
export class KoaSessionPort implements SessionPort {
  private readonly ctx: Context;
  private readonly key: string;
  private storeInstance: KoaSessionStore | undefined;
  /** This request saved a login into the session (see settle()). */
  private savedLogin = false;
  /** The logged-in session as loaded (JSON), to notice at the end whether the request changed it. */
  private loadedLogin: string | undefined;
  /** Where a shortened session remembers the app's own maxAge (koa-session restores `_maxAge` when it loads one). */
  private readonly lifetimeKey: string;

  constructor(ctx: Context, key: string) {
    this.ctx = ctx;
    this.key = key;
    this.lifetimeKey = `${key}:maxAge`;
    sessionOptionsOf(ctx);
  }

  private get store(): KoaSessionStore {
    return (this.storeInstance ??= sessionStoreOf(this.ctx));
  }

  private session(): KoaSession {
    const holder = withSession(this.ctx);
    if (holder.session === undefined) throw new OidcError('ERR_OIDC_NO_SESSION', MISSING_SESSION);
    if (holder.session === null) holder.session = {};
    return holder.session as KoaSession;
  }

  id(): string {
    return (withSession(this.ctx).session as KoaSession | null | undefined)?.externalKey ?? '';
  }

  read(): OidcSessionData | undefined {
    return readSessionData(this.ctx, this.key);
  }

  async readStored(): Promise<OidcSessionData | undefined | null> {
    let stored: unknown;
    try {
      stored = await this.store.get(this.id(), withSession(this.ctx).sessionOptions?.maxAge, { rolling: false, ctx: this.ctx });
    } catch (err) {
      throw sessionStoreError('read', err);
    }
    if (!stored || typeof stored !== 'object') return null;
    const record = stored as Record<string, unknown>;
    // koa-session's own expiry check (it stores `_expire` beside the data).
    if (typeof record._expire === 'number' && record._expire < Date.now()) return null;
    return record[this.key] as OidcSessionData | undefined;
  }

  write(data: OidcSessionData | undefined): void {
    const session = this.session();
    if (data === undefined) delete session[this.key];
    else session[this.key] = data;
  }

  readAppData(): Record<string, unknown> {
    const session = withSession(this.ctx).session as KoaSession | null | undefined;
    if (!session) return {};
    return Object.fromEntries(Object.entries(session.toJSON()).filter(([name]) => name !== this.key && name !== this.lifetimeKey));
  }

  writeAppData(data: Record<string, unknown>): void {
    Object.assign(this.session(), data);
  }

  /** koa-session's per-session maxAge (cookie and store); the app's own value is kept for regenerate(). */
  expireAfter(ttlMs: number): void {
    const session = this.session();
    if (!Object.hasOwn(session, this.lifetimeKey)) session[this.lifetimeKey] = withSession(this.ctx).sessionOptions?.maxAge ?? null;
    (session as { maxAge?: number }).maxAge = ttlMs;
  }

  async regenerate(): Promise<void> {
    const holder = withSession(this.ctx);
    const appMaxAge = this.session()[this.lifetimeKey] as number | 'session' | null | undefined;
    // Start from an empty session: the core carries over what it keeps (pending logins, keepSessionData).
    holder.session = {};
    if (appMaxAge !== undefined) (holder.session as { maxAge?: number | 'session' }).maxAge = appMaxAge ?? undefined;
    try {
      // koa-session: destroys the old key in the store, takes a new key, saves, sets the new cookie.
      await (holder.session as KoaSession).regenerate();
    } catch (err) {
      throw sessionStoreError('regenerate', err);
    }
    // The Session object still reports the old key; a fresh one is created with the new key.
    holder.session = {};
  }

  async save(): Promise<void> {
    const session = this.session();
    try {
      // A refresh answer that arrived after the response was sent: koa-session would also try to set the
      // cookie, which throws then; the store write is what matters (the cookie names the same key).
      if (this.ctx.headerSent) return await this.saveLate(session);
      await session.save();
    } catch (err) {
      throw sessionStoreError('save', err);
    }
    this.savedLogin = (session[this.key] as OidcSessionData | undefined)?.auth !== undefined;
  }

  /** koa-session's own store write (same `_expire` bookkeeping), without touching the sent response. */
  private async saveLate(session: KoaSession): Promise<void> {
    const configured = withSession(this.ctx).sessionOptions?.maxAge;
    const data: Record<string, unknown> = session.toJSON();
    let maxAge: number | 'session' = configured === 'session' ? 'session' : (configured ?? 86_400_000);
    if (maxAge === 'session') data._session = true;
    else {
      data._expire = maxAge + Date.now();
      data._maxAge = maxAge;
      maxAge += 10_000;
    }
    await this.store.set(this.id(), data, maxAge, { rolling: false, changed: true, ctx: this.ctx });
  }

  assertCookieDeliverable(): void {
    assertCookieDeliverable(this.ctx);
  }

  async destroy(): Promise<void> {
    const id = this.id();
    try {
      if (id) await this.store.destroy(id, { ctx: this.ctx });
    } catch (err) {
      throw sessionStoreError('destroy', err);
    }
    // koa-session clears the cookie when it commits (and destroys the key again, harmlessly).
    withSession(this.ctx).session = null;
    this.savedLogin = false;
  }

  /**
   * Called once the request is done, before koa-session commits. koa-session writes a session back
   * whenever it differs from what it loaded, and it does not know about our explicit save(): a login we
   * saved during this request would be written again at the end. If a logout elsewhere (another tab,
   * back-channel) destroyed the session meanwhile, that late write would bring the login back, so the
   * session is dropped instead. Costs one store read, only on requests that saved a login.
   */
  async settle(): Promise<void> {
    const session = withSession(this.ctx).session as KoaSession | null | undefined;
    this.restoreAppLifetime(session);
    const changedLogin = this.loadedLogin !== undefined && !!session && JSON.stringify(session.toJSON()) !== this.loadedLogin;
    if (!this.savedLogin && !changedLogin) return;
    this.savedLogin = false;
    this.loadedLogin = undefined;
    let stored: OidcSessionData | undefined | null;
    try {
      stored = await this.readStored();
    } catch {
      // The store could not tell: let koa-session write as it would have.
      return;
    }
    const current = withSession(this.ctx).session as KoaSession | null | undefined;
    // Only a session this request changed can carry a stale login; one it merely saved is checked for destruction.
    const mine = changedLogin ? (current?.[this.key] as OidcSessionData | undefined) : undefined;
    const next = keepNewerLogin(mine, stored);
    if (next === null) withSession(this.ctx).session = null;
    else if (current && next !== mine) current[this.key] = next;
  }

  /**
   * A session shortened while it held only pending logins, into which the app has now written its own
   * data (a cart), gets the app's maxAge back before koa-session commits it: it is the app's session now.
   */
  private restoreAppLifetime(session: KoaSession | null | undefined): void {
    if (!session || !Object.hasOwn(session, this.lifetimeKey) || Object.keys(this.readAppData()).length === 0) return;
    const appMaxAge = session[this.lifetimeKey] as number | 'session' | null;
    delete session[this.lifetimeKey];
    (session as { maxAge?: number | 'session' }).maxAge = appMaxAge ?? undefined;
  }

  /**
   * Called when the request starts: remembers a logged-in session as loaded, so that settle() can tell
   * whether the request changed it (a JSON copy, only for logged-in sessions).
   */
  noteLoaded(): void {
    const session = withSession(this.ctx).session as KoaSession | null | undefined;
    if (session && (session[this.key] as OidcSessionData | undefined)?.auth) this.loadedLogin = JSON.stringify(session.toJSON());
  }
}
