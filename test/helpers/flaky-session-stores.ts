import express from 'express';
import session from 'express-session';
import type { ErrorRequestHandler } from 'express';
import Koa from 'koa';
import koaSession from 'koa-session';
import type supertest from 'supertest';
import { oidc as expressOidc, resilientStore as expressResilientStore } from '../../lib/express/index.js';
import type { OidcOptions } from '../../lib/express/index.js';
import { oidc as koaOidc, resilientStore as koaResilientStore } from '../../lib/koa/index.js';
import type { KoaSessionStore } from '../../lib/koa/index.js';
import type { HostileOp } from './hostile-op.js';
import { MemoryKoaStore } from './koa-memory-store.js';
import { RP_BASE_URL } from './rp-common.js';

/** How a flaky store's call misbehaves. `fail` and `enoent` call back with an error (express-session stores only). */
export type Mode = 'ok' | 'fail' | 'hang' | 'throw' | 'reject' | 'twice' | 'enoent';
export type Method = 'get' | 'set' | 'destroy' | 'touch';
/** What supertest drives: an Express app or a Koa callback. */
export type Handler = Parameters<typeof supertest>[0];

/** A MemoryStore whose calls can be made to fail, hang, throw, reject or answer twice, per method. */
export class FlakyExpressStore extends session.MemoryStore {
  modes: Partial<Record<Method, Mode>> = {};
  calls: Record<Method, number> = { get: 0, set: 0, destroy: 0, touch: 0 };

  private run(method: Method, callback: ((...args: unknown[]) => void) | undefined, real: (cb: (...args: unknown[]) => void) => void): unknown {
    this.calls[method] += 1;
    const cb = callback ?? (() => undefined);
    switch (this.modes[method] ?? 'ok') {
      case 'fail': setImmediate(() => cb(new Error('ECONNREFUSED 127.0.0.1:6379'))); return undefined;
      case 'hang': return undefined;
      case 'throw': throw new Error('The client is closed');
      case 'reject': return Promise.reject(new Error('rejected'));
      case 'enoent': setImmediate(() => cb(Object.assign(new Error('no file'), { code: 'ENOENT' }))); return undefined;
      case 'twice': real((...args) => { cb(...args); cb(new Error('second answer')); }); return undefined;
      default: real(cb); return undefined;
    }
  }

  override get(sid: string, callback: (err: unknown, s?: session.SessionData | null) => void): void {
    return this.run('get', callback as never, (cb) => super.get(sid, cb)) as void;
  }
  override set(sid: string, s: session.SessionData, callback?: (err?: unknown) => void): void {
    return this.run('set', callback as never, (cb) => super.set(sid, s, cb)) as void;
  }
  override destroy(sid: string, callback?: (err?: unknown) => void): void {
    return this.run('destroy', callback as never, (cb) => super.destroy(sid, cb)) as void;
  }
  override touch(sid: string, s: session.SessionData, callback?: () => void): void {
    return this.run('touch', callback as never, (cb) => super.touch(sid, s, cb)) as void;
  }

  /** How many sessions the store holds. */
  count(): number {
    return Object.keys((this as unknown as { sessions: Record<string, unknown> }).sessions).length;
  }
}

/** A MemoryKoaStore whose calls can be made to throw, reject or hang, per method. */
export class FlakyKoaStore implements KoaSessionStore {
  readonly inner = new MemoryKoaStore();
  modes: Partial<Record<Method, Mode>> = {};

  private run<T>(method: Method, real: () => Promise<T>): Promise<T> {
    switch (this.modes[method] ?? 'ok') {
      case 'throw':
        throw new Error('The client is closed');
      case 'reject':
        return Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379'));
      case 'hang':
        return new Promise<T>(() => undefined);
      default:
        return real();
    }
  }

  get(key: string) {
    return this.run('get', () => this.inner.get(key));
  }
  set(key: string, value: Record<string, unknown>, maxAge: number | 'session' | undefined) {
    return this.run('set', () => this.inner.set(key, value, maxAge));
  }
  destroy(key: string) {
    return this.run('destroy', () => this.inner.destroy(key));
  }

  count(): number {
    return Object.keys(this.inner.all()).length;
  }
}

export interface AppOptions {
  timeoutMs?: number;
  /** An error handler answering `{ error: code }` with the error's status (default); false: the framework's own. */
  handler?: boolean;
  backchannelLogout?: boolean;
}

/**
 * An app over the framework's session middleware with a flaky store wrapped by that adapter's
 * resilientStore(). Routes: oidc()'s, `/set` (stores n = 1), `/read` (reads n), `/api/me` (requireAuth).
 */
export interface ResilientStoreFixture {
  name: 'express' | 'koa';
  /** The ways a store call can fail that are outages for this adapter's stores. */
  outages: Mode[];
  /** `reject` and `throw` exist for both; express-session stores may also call back with an error. */
  setup(op: HostileOp, options?: AppOptions): { store: FlakyExpressStore | FlakyKoaStore; app: Handler };
  /** Calls this adapter's resilientStore() over a working store with `options`. */
  wrapWith(options: unknown): unknown;
}

export const EXPRESS_FIXTURE: ResilientStoreFixture = {
  name: 'express',
  outages: ['fail', 'throw', 'reject', 'hang'],
  setup(op, options = {}) {
    const store = new FlakyExpressStore();
    const a = express();
    a.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, store: expressResilientStore(store, { timeoutMs: options.timeoutMs ?? 2000 }), name: 'sid' }));
    const auth = expressOidc({
      clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, issuer: op.issuer, backchannelLogout: options.backchannelLogout ?? false,
    } as OidcOptions);
    a.use(auth);
    a.get('/api/me', auth.requireAuth(), (req, res) => {
      res.json({ user: req.user });
    });
    a.get('/set', (req, res) => {
      (req.session as unknown as Record<string, unknown>).n = 1;
      res.json({ id: req.sessionID });
    });
    a.get('/read', (req, res) => {
      res.json({ n: (req.session as unknown as Record<string, unknown>).n ?? null });
    });
    a.get('/regenerate', (req, res, next) => {
      const before = req.sessionID;
      req.session.regenerate((err) => (err ? next(err) : res.json({ before, after: req.sessionID })));
    });
    if (options.handler !== false) {
      const onError: ErrorRequestHandler = (err, _req, res, _next) => {
        res.status(err.status ?? 500).json({ error: err.code ?? 'internal' });
      };
      a.use(onError);
    }
    return { store, app: a as unknown as Handler };
  },
  wrapWith: (options) => expressResilientStore(new session.MemoryStore(), options as never),
};

export const KOA_FIXTURE: ResilientStoreFixture = {
  name: 'koa',
  outages: ['throw', 'reject', 'hang'],
  setup(op, options = {}) {
    const store = new FlakyKoaStore();
    const koa = new Koa();
    koa.keys = ['test-secret'];
    koa.silent = true;
    if (options.handler !== false) {
      koa.use(async (ctx, next) => {
        try {
          await next();
        } catch (err) {
          ctx.status = (err as { status?: number }).status ?? 500;
          ctx.body = { error: (err as { code?: string }).code ?? 'internal' };
        }
      });
    }
    koa.use(koaSession({ key: 'sid', store: koaResilientStore(store, { timeoutMs: options.timeoutMs ?? 2000 }) }, koa));
    const auth = koaOidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, issuer: op.issuer, backchannelLogout: options.backchannelLogout ?? false });
    koa.use(auth);
    koa.use(async (ctx, next) => {
      if (ctx.path === '/set') {
        (ctx.session as Record<string, unknown>).n = 1;
        ctx.body = { ok: true };
      } else if (ctx.path === '/read') {
        ctx.body = { n: (ctx.session as Record<string, unknown>).n ?? null };
      } else if (ctx.path === '/api/me') {
        await auth.requireAuth()(ctx, async () => {
          ctx.body = { user: ctx.state.user };
        });
      } else {
        await next();
      }
    });
    return { store, app: koa.callback() as unknown as Handler };
  },
  wrapWith: (options) => koaResilientStore(new MemoryKoaStore(), options as never),
};
