/** The tokens page: decoded ID and access tokens, the access token's expiry, and "refresh now". */
import { createHash } from 'node:crypto';
import type { Express, RequestHandler } from 'express';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { html, layout, trusted } from './html.js';
import type { Html } from './html.js';

/** Header and payload of a JWT, or undefined for an opaque token. Decoding only: the library verified it. */
function decode(token: string): { header: unknown; payload: unknown } | undefined {
  try {
    return { header: decodeProtectedHeader(token), payload: decodeJwt(token) };
  } catch {
    return undefined;
  }
}

/** Enough to see that a token changed, nothing to replay. */
function fingerprint(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}

function jwtBlock(token: string): Html {
  const jwt = decode(token);
  if (!jwt) {
    return html`<p class="muted" id="access-opaque">This access token is <strong>opaque</strong> (not a JWT): only the IdP can read it, through
      token introspection. That is normal when no API audience (<code>resource</code> / <code>audience</code>) is asked for.</p>`;
  }
  return html`<p class="muted">Header</p><pre>${JSON.stringify(jwt.header, null, 2)}</pre>
    <p class="muted">Payload</p><pre>${JSON.stringify(jwt.payload, null, 2)}</pre>`;
}

const COUNTDOWN = `
const el = document.getElementById('countdown');
const tick = () => {
  const left = Math.round(Number(el.dataset.expiresAt) - Date.now() / 1000);
  el.textContent = left > 0 ? 'in ' + Math.floor(left / 60) + ':' + String(left % 60).padStart(2, '0')
    : 'now: the next protected request refreshes it';
};
tick();
setInterval(tick, 1000);`;

const tokensPage: RequestHandler = (req, res) => {
  const oidc = req.oidc;
  const idToken = oidc?.idToken ?? '';
  const accessToken = oidc?.accessToken ?? '';
  const expiresAt = oidc?.expiresAt;
  const refreshed = req.query.refreshed === '1';
  const expiry = expiresAt === undefined
    ? html`<p>The IdP did not say when the access token expires.</p>`
    : html`<p>Expires <strong><span id="countdown" data-expires-at="${expiresAt}">at ${new Date(expiresAt * 1000).toISOString()}</span></strong></p>
        <script>${trusted(COUNTDOWN)}</script>`;
  const refresh = oidc?.refreshToken
    ? html`<form method="post" action="/tokens/refresh"><button id="refresh">Refresh now</button>
        <span class="muted">Refresh token <code id="refresh-fingerprint">${fingerprint(oidc.refreshToken)}</code> (fingerprint).</span></form>`
    : html`<p class="muted">No refresh token: the IdP did not issue one (many need the <code>offline_access</code> scope).</p>`;
  res.send(layout(req, 'Tokens', html`
    ${refreshed ? html`<div class="card notice" id="refreshed">Tokens refreshed at ${new Date().toISOString()}.</div>` : ''}
    <div class="card"><h2>Access token</h2>
      <p class="muted">Fingerprint <code id="access-fingerprint">${fingerprint(accessToken)}</code> (SHA-256 prefix; the token itself stays on the server).</p>
      ${expiry}${refresh}${jwtBlock(accessToken)}</div>
    <div class="card"><h2>ID token</h2>${jwtBlock(idToken)}</div>`));
};

export function tokenRoutes(app: Express, requireAuth: RequestHandler): void {
  app.get('/tokens', requireAuth, tokensPage);
  // getAccessToken() refreshes when the token has less than `minTtl` seconds left: with Infinity, always.
  app.post('/tokens/refresh', requireAuth, (req, res, next) => {
    if (!req.oidc?.refreshToken) return res.redirect(303, '/tokens');
    req.oidc.getAccessToken({ minTtl: Infinity }).then(() => res.redirect(303, '/tokens?refreshed=1'), next);
  });
}
