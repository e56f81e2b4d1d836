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

export function apiRoutes(app: Express, apiGuard: RequestHandler, dpopGuard?: RequestHandler): void {
  app.get('/api/me', apiGuard, (req, res) => {
    res.json({ user: req.user });
  });
  app.get('/api/things', apiGuard, (req, res) => {
    res.json({ things: THINGS, requestedBy: req.auth?.sub ?? req.user?.sub, via: req.auth ? `${req.auth.scheme} token` : 'session' });
  });
  if (dpopGuard) {
    app.get('/api/dpop/things', dpopGuard, (req, res) => {
      res.json({ things: THINGS, requestedBy: req.auth?.sub, via: `${req.auth?.scheme} token` });
    });
  }
}

async function callOwnApi(req: Request, selfUrl: string): Promise<{ status: number; body: unknown; scheme: string; path: string }> {
  // A token with at least 60 s left (refreshed first if needed), so it cannot expire on the way. With a
  // DPoP-bound token, fetch() adds a proof for this very request (and retries once if the API wants a nonce).
  const token = await req.oidc.getBoundAccessToken();
  const path = token.tokenType === 'DPoP' ? '/api/dpop/things' : '/api/things';
  const response = await token.fetch(new URL(path, selfUrl), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
  return { status: response.status, body: await response.json().catch(() => null), scheme: token.tokenType, path };
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
    callOwnApi(req, selfUrl()).then(({ status, body, scheme, path }) => {
      res.send(layout(req, 'API call', html`<div class="card">
        <p class="muted" id="api-guard">This page is guarded by <code>auth.requireAuth()</code>. The API it calls, <code>/api/things</code> (or <code>/api/dpop/things</code> for a DPoP-bound token), is guarded by ${apiGuard}.</p>
        <p>The server called <code>GET ${path}</code> with <code id="api-scheme">Authorization: ${scheme} &lt;your access token&gt;</code>${scheme === 'DPoP'
          ? html` and a <code>DPoP</code> proof signed with this session's key; that route is guarded by <code>requireBearer({ baseUrl, dpop: { required: true } })</code>` : ''}.</p>
        <p>Status <strong id="api-status">${status}</strong></p>
        <pre id="api-body">${JSON.stringify(body, null, 2)}</pre></div>`));
    }, next);
  });
}
