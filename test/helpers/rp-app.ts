import express5 from 'express';
import express4 from 'express4';
import session from 'express-session';
import type { ErrorRequestHandler, Express } from 'express';
import { oidc } from '../../lib/express/index.js';
import type { ExpressOidcOptions, OidcMiddleware } from '../../lib/express/index.js';

export type ExpressMajor = 4 | 5;
export const EXPRESS_MAJORS: ExpressMajor[] = [5, 4];

export const RP_BASE_URL = 'http://127.0.0.1:3000';

export interface RpApp {
  app: Express;
  auth: OidcMiddleware;
  store: session.MemoryStore;
  /** Every session record in the store, parsed. */
  sessions(): Promise<Record<string, Record<string, unknown>>>;
  /** Errors that reached the app's error handler. */
  errors: Array<{ code?: string; status?: number; message: string }>;
}

/**
 * An Express app as a user would write it: express-session, `app.use(auth)`, a public page, a guarded
 * page and a guarded JSON route, and an error handler that shows the stable code.
 */
export function createRpApp(options: Partial<ExpressOidcOptions>, major: ExpressMajor = 5, extra?: (app: Express, auth: OidcMiddleware) => void): RpApp {
  const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
  const app = express();
  const store = new session.MemoryStore();
  app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, store, name: 'sid' }));
  const auth = oidc({ clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL, ...options } as ExpressOidcOptions);
  app.use(auth);
  app.get('/', (req, res) => {
    res.json({ user: req.user ?? null });
  });
  app.get('/profile', auth.requireAuth(), (req, res) => {
    res.json(req.user);
  });
  app.get('/api/me', auth.requireAuth(), (req, res) => {
    res.json({ user: req.user, expiresAt: req.oidc?.expiresAt });
  });
  app.post('/api/things', auth.requireAuth(), (_req, res) => {
    res.json({ ok: true });
  });
  extra?.(app, auth);
  const errors: RpApp['errors'] = [];
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    errors.push({ code: err.code, status: err.status, message: err.message });
    res.status(err.status ?? 500).json({ error: err.code ?? 'internal', message: err.expose ? err.message : 'error' });
  };
  app.use(onError);
  const sessions = () =>
    new Promise<Record<string, Record<string, unknown>>>((resolve, reject) => {
      store.all((err, all) => (err ? reject(err) : resolve((all ?? {}) as unknown as Record<string, Record<string, unknown>>)));
    });
  return { app, auth, store, sessions, errors };
}

/** Path + query of an absolute URL, for supertest. */
export function localPath(url: string): string {
  const parsed = new URL(url);
  return parsed.pathname + parsed.search;
}
