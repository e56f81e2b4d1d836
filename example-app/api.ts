/**
 * The app's own JSON API, and a page that calls it server-side with the user's access token, the way a
 * backend calls a downstream API. The API's guard takes a session or a bearer token; the call below sends
 * only the token, so it is the token that gets checked.
 */
import type { Express, Request, RequestHandler } from 'express';
import { html, layout } from './html.js';

const THINGS = [
  { id: 1, name: 'Teapot', status: 'short and stout' },
  { id: 2, name: 'Kettle', status: 'boiling' },
];

export function apiRoutes(app: Express, apiGuard: RequestHandler): void {
  app.get('/api/me', apiGuard, (req, res) => {
    res.json({ user: req.user });
  });
  app.get('/api/things', apiGuard, (req, res) => {
    res.json({ things: THINGS, requestedBy: req.auth?.sub ?? req.user?.sub, via: req.auth ? 'bearer token' : 'session' });
  });
}

async function callOwnApi(req: Request, selfUrl: string, path: string): Promise<{ status: number; body: unknown }> {
  // A token with at least 60 s left (refreshed first if needed), so it cannot expire on the way.
  const token = await req.oidc.getAccessToken();
  const response = await fetch(new URL(path, selfUrl), {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

/**
 * `selfUrl`: where this process listens (not BASE_URL, which may be a proxy in front of it). `bearer`: the
 * API guard accepts access tokens (it needs the client secret to introspect the dev IdP's opaque tokens).
 */
export function apiPage(app: Express, requireAuth: RequestHandler, selfUrl: () => string, bearer: boolean): void {
  const apiGuard = bearer
    ? html`<code>auth.requireAuth({ bearer: { audience, introspection } })</code>: a browser session or an access token (checked at the IdP's introspection endpoint)`
    : html`<code>auth.requireAuth()</code>: a browser session only (a public client cannot introspect tokens)`;
  app.get('/api', requireAuth, (req, res, next) => {
    callOwnApi(req, selfUrl(), '/api/things').then(({ status, body }) => {
      res.send(layout(req, 'API call', html`<div class="card">
        <p class="muted" id="api-guard">This page is guarded by <code>auth.requireAuth()</code>. The API it calls, <code>/api/things</code>, is guarded by ${apiGuard}.</p>
        <p>The server called <code>GET /api/things</code> with <code>Authorization: Bearer &lt;your access token&gt;</code>.</p>
        <p>Status <strong id="api-status">${status}</strong></p>
        <pre id="api-body">${JSON.stringify(body, null, 2)}</pre></div>`));
    }, next);
  });
}
