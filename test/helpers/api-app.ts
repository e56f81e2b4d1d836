import express5 from 'express';
import express4 from 'express4';
import type { ErrorRequestHandler, Express, Request } from 'express';

export type ExpressMajor = 4 | 5;

/** What the test routes answer: who the token (or the session) says the caller is. */
export function describeCaller(req: Request): Record<string, unknown> {
  const auth = req.auth;
  return auth
    ? { via: 'bearer', sub: auth.sub, clientId: auth.clientId, scopes: auth.scopes, scheme: auth.scheme, aud: auth.claims.aud }
    : { via: 'session', sub: req.user?.sub };
}

/**
 * An Express API as a user would write it: routes added by `mount`, and a JSON error handler that, like
 * Express's default one, sends the error's `headers` (the WWW-Authenticate challenge).
 */
export function createApiApp(mount: (app: Express) => void, major: ExpressMajor = 5): Express {
  const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
  const app = express();
  mount(app);
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    if (err.headers) res.set(err.headers);
    res.status(err.status ?? 500).json({ error: err.code ?? 'internal', message: err.expose ? err.message : 'error' });
  };
  app.use(onError);
  return app;
}

/** Parses one WWW-Authenticate challenge: `Bearer error="x", scope="y"` → { scheme, params }. */
export function parseChallenge(header: string | undefined): { scheme: string; params: Record<string, string> } {
  if (!header) throw new Error('no WWW-Authenticate header');
  const [scheme, ...rest] = header.split(' ');
  const params: Record<string, string> = {};
  for (const match of rest.join(' ').matchAll(/([a-z_]+)="([^"]*)"/g)) params[match[1] as string] = match[2] as string;
  return { scheme: scheme as string, params };
}
