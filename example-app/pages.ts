/** Home, profile and admin pages, and the error pages. */
import type { ErrorRequestHandler, Express, Request, RequestHandler } from 'express';
import { requireRoles } from 'oidc-session/express';
import type { Logger } from 'oidc-session/express';
import { html, layout } from './html.js';
import type { Html } from './html.js';

export interface PageSettings {
  /** "alice / alice (admin), bob / bob (user)" when the embedded dev IdP runs. */
  devUsers: string | undefined;
  logger: Logger;
  /** Claims the embedded dev IdP releases at userinfo only (none with your own IdP). */
  userinfoOnly: readonly string[];
}

const LOGOUT_NOTE = html`<strong>Log out</strong> ends the session in this app only. Your session at the IdP stays,
  so logging in again (or opening <a href="/profile">Profile</a>) signs you straight back in without a password.
  <strong>Log out at the IdP too</strong> ends both.`;

const TIMESTAMPS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);

function display(name: string, value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return TIMESTAMPS.has(name) && typeof value === 'number' ? `${text} (${new Date(value * 1000).toISOString()})` : text;
}

/** Where a claim of req.user comes from: the ID token, or the userinfo endpoint (merged in at login). */
function origin(name: string, idToken: Record<string, unknown>, user: Record<string, unknown>): Html {
  if (!(name in idToken)) return html`<span class="tag userinfo">userinfo</span>`;
  if (!(name in user)) return html`<span class="tag protocol">ID token (protocol)</span>`;
  if (JSON.stringify(idToken[name]) !== JSON.stringify(user[name])) return html`<span class="tag userinfo">userinfo (differs from ID token)</span>`;
  return html`<span class="tag">ID token</span>`;
}

export function home(settings: PageSettings): RequestHandler {
  return (req, res) => {
    // The IdP's logout sends the browser back to /?state=...: nothing to read there, so show a clean URL.
    if (typeof req.query.state === 'string') return res.redirect(303, '/?logged-out=idp');
    const user = req.user;
    const loggedOut = req.query['logged-out'];
    const afterLogout = loggedOut === 'local'
      ? html`<div class="card notice" id="logged-out-local"><p>You are logged out of this app. ${LOGOUT_NOTE}</p></div>`
      : loggedOut === 'idp' ? html`<div class="card notice" id="logged-out-idp"><p>You are logged out of this app and at the IdP: the next login asks for your password.</p></div>` : '';
    const body = user
      ? html`<div class="card"><p id="status">You are logged in as <strong>${String(user.name ?? user.sub)}</strong>${user.email ? html` (${String(user.email)})` : ''} at <code>${user.iss}</code>.</p>
          <p>See your <a href="/profile">claims</a>, your <a href="/tokens">tokens</a>, the <a href="/admin">admin page</a> (role <code>admin</code> only) and an <a href="/api">API call</a> made with your access token.</p>
          <p class="muted hint" id="logout-note">${LOGOUT_NOTE}</p></div>`
      : html`${afterLogout}<div class="card"><p id="status">You are not logged in.</p>
          <p><a class="button" href="/login?returnTo=/profile">Log in</a></p>
          ${settings.devUsers ? html`<p class="muted">Dev IdP users: ${settings.devUsers}.</p>` : ''}</div>`;
    res.send(layout(req, 'Home', html`${body}
      <div class="card muted"><p>This app uses <code>oidc-session</code>: authorization code flow with PKCE, tokens kept in the
      server-side session, <code>req.user</code> and <code>requireAuth()</code>. Every page here is a few lines in <code>example-app/</code>.</p></div>`));
  };
}

export function profile(settings: PageSettings): RequestHandler {
  return (req, res) => {
    const idToken = (req.oidc.idTokenClaims ?? {}) as Record<string, unknown>;
    const user = (req.user ?? {}) as Record<string, unknown>;
    const names = [...new Set([...Object.keys(user), ...Object.keys(idToken)])];
    const rows = names.map((name) => html`<tr><td><code>${name}</code></td><td>${display(name, user[name] ?? idToken[name])}</td><td>${origin(name, idToken, user)}</td></tr>`);
    const devNote = settings.userinfoOnly.length
      ? html`<p class="muted" id="userinfo-note">The embedded dev IdP releases ${settings.userinfoOnly.map((c, i) => html`${i ? ', ' : ''}<code>${c}</code>`)} at its userinfo endpoint only, as many IdPs do:
        they are not in the ID token, and reach <code>req.user</code> because oidc-session calls userinfo at login (<code>fetchUserinfo</code>, default true).</p>`
      : '';
    res.send(layout(req, 'Profile', html`<div class="card">
      <p class="muted"><code>req.user</code> is the ID token's claims (protocol claims left out) merged with what the userinfo endpoint returned at login.</p>
      ${devNote}
      <table id="claims"><tr><th>Claim</th><th>Value</th><th>From</th></tr>${rows}</table></div>`));
  };
}

export function adminRoutes(app: Express): void {
  // requireRoles() implies requireAuth(): logged out -> login; logged in without the role -> 403.
  // It reads the claim named by the oidc() option `rolesClaim` (default `roles`).
  app.get('/admin', requireRoles('admin'), (req, res) => {
    res.send(layout(req, 'Admin', html`<div class="card"><p id="admin-welcome">Welcome, ${String(req.user?.name ?? req.user?.sub)}: you have the <code>admin</code> role.</p>
      <p class="muted">Guarded by <code>requireRoles('admin')</code>.</p></div>`));
  });
}

export function errorPages(settings: PageSettings): { notFound: RequestHandler; onError: ErrorRequestHandler } {
  const page = (req: Request, title: string, body: Html) => layout(req, title, html`<div class="card error">${body}</div>`);
  return {
    notFound: (req, res) => {
      res.status(404).send(page(req, 'Not found', html`<p>There is no page at <code>${req.path}</code>.</p>`));
    },
    onError: (err, req, res, next) => {
      if (res.headersSent) return next(err);
      // The library's errors carry headers a client needs, e.g. the WWW-Authenticate challenge of a 401.
      if (err.headers) res.set(err.headers);
      const status: number = typeof err.status === 'number' ? err.status : 500;
      const code: string = err.code ?? 'internal_error';
      if (status >= 500) settings.logger.error('request failed', { code, message: err.message, path: req.path });
      // The challenge (WWW-Authenticate: DPoP / Bearer error=...) tells an API client what went wrong.
      if (req.path.startsWith('/api/')) return res.status(status).set(err.headers ?? {}).json({ error: code });
      if (code === 'ERR_OIDC_FORBIDDEN') {
        return res.status(403).send(page(req, 'Forbidden', html`<p id="forbidden">Sorry ${String(req.user?.name ?? req.user?.sub)}, you may not open this page.</p>
          <p class="muted" id="forbidden-reason">${err.message}. You are logged in, so this is a 403, not a login prompt.</p>`));
      }
      const hint = code === 'ERR_OIDC_MISSING_TRANSACTION'
        ? 'This login was already completed, has expired, or was started in another browser. Just log in again.'
        : err.expose ? err.message : 'Something went wrong.';
      res.status(status).send(page(req, `Error ${status}`, html`<p>${hint}</p><p class="muted"><code>${code}</code></p><p><a href="/">Home</a> · <a href="/login">Log in</a></p>`));
    },
  };
}

/** Local logout is the library's own route (POST /logout); this one also ends the session at the IdP. */
export function logoutRoutes(app: Express): void {
  app.post('/logout/idp', (_req, res, next) => {
    res.oidc.logout({ idpLogout: true }).catch(next);
  });
}
