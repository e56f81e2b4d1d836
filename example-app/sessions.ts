/** The sessions page: where the user is logged in to this app, and "log out everywhere". */
import type { Express, RequestHandler } from 'express';
import type { OidcMiddleware } from 'oidc-session/express';
import { html, layout } from './html.js';

function when(seconds: number | undefined): string {
  return seconds === undefined ? '—' : new Date(seconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
}

export function sessionRoutes(app: Express, auth: OidcMiddleware, guard: RequestHandler): void {
  app.get('/sessions', guard, async (req, res, next) => {
    try {
      const sessions = (await req.oidc?.listSessions()) ?? [];
      const rows = sessions.map((s) => html`<tr class="session${s.current ? ' current' : ''}">
        <td>${when(s.createdAt)}${s.current ? html` <span class="tag">this browser</span>` : ''}</td><td>${when(s.lastLoginAt)}</td><td>${when(s.expiresAt)}</td><td><code>${s.provider}</code></td>
        <td>${s.current ? '' : html`<form class="inline" method="post" action="/sessions/end"><input type="hidden" name="id" value="${s.id}"><button class="secondary">End</button></form>`}</td></tr>`);
      res.send(layout(req, 'Sessions', html`<div class="card">
        <p id="session-count">You are logged in to this app in ${sessions.length} ${sessions.length === 1 ? 'session' : 'sessions'}.</p>
        <table id="sessions"><tr><th>Logged in here</th><th>Last login at the IdP</th><th>Ends at the latest</th><th>IdP</th><th></th></tr>${rows}</table>
        <p><form class="inline" method="post" action="/sessions/logout-everywhere"><button id="logout-everywhere">Log out everywhere</button></form>
        <form class="inline" method="post" action="/sessions/logout-everywhere?idp=1"><button class="secondary" id="logout-everywhere-idp">… and at the IdP</button></form></p>
        <p class="muted"><code>req.oidc.listSessions()</code> and <code>req.oidc.logoutEverywhere()</code> read the session index
        (shared by every instance with Redis); ending one session uses <code>auth.sessions.destroy({ sub, iss, id })</code>.</p></div>`));
    } catch (err) {
      next(err);
    }
  });

  app.post('/sessions/logout-everywhere', guard, async (req, res, next) => {
    try {
      const result = await req.oidc?.logoutEverywhere({ idpLogout: req.query.idp === '1' });
      res.redirect(303, result?.idpLogoutUrl ?? '/');
    } catch (err) {
      next(err);
    }
  });

  app.post('/sessions/end', guard, async (req, res, next) => {
    try {
      const body = new URLSearchParams(await readBody(req));
      const id = body.get('id');
      const user = req.user;
      // destroy() only ends a session of this sub/iss, whatever id the form carries.
      if (id && user) await auth.sessions.destroy({ sub: user.sub, iss: user.iss, id });
      res.redirect(303, '/sessions');
    } catch (err) {
      next(err);
    }
  });
}

async function readBody(req: AsyncIterable<Buffer>): Promise<string> {
  let text = '';
  for await (const chunk of req) {
    text += chunk.toString('utf8');
    if (text.length > 4096) break;
  }
  return text;
}
