/**
 * Server-rendered HTML without a template engine: the `html` tag escapes every interpolated value
 * unless it is itself `html`, so user-controlled data (claims!) can never inject markup.
 */
import type { Request } from 'express';

const SAFE = Symbol('safe html');
export interface Html {
  readonly [SAFE]: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function render(value: unknown): string {
  if (value === undefined || value === null || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (typeof value === 'object' && SAFE in value) return (value as Html)[SAFE];
  return escapeHtml(value);
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return { [SAFE]: out };
}

/** Trusted markup from this app's own source (CSS, scripts), never from a request. */
export function trusted(markup: string): Html {
  return { [SAFE]: markup };
}

const CSS = `
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2937;background:#f6f7f9}
header{background:#111827;color:#fff}
header .bar{max-width:60rem;margin:0 auto;padding:.6rem 1rem;display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header a{color:#e5e7eb;text-decoration:none}header a:hover{color:#fff;text-decoration:underline}
header .brand{font-weight:700;color:#fff;margin-right:.5rem}
header .who{margin-left:auto;display:flex;gap:.5rem;align-items:center}
main{max-width:60rem;margin:1.5rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:1rem 1.25rem;margin-bottom:1rem}
h1{font-size:1.6rem;margin:.2rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .6rem}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eee;vertical-align:top}
th{font-size:.85rem;color:#6b7280;font-weight:600}
code,pre{font:13px/1.45 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f3f4f6;padding:.75rem;border-radius:6px;overflow:auto;margin:.25rem 0 .75rem}
.tag{display:inline-block;font-size:.75rem;padding:0 .45rem;border-radius:999px;background:#e0e7ff;color:#3730a3}
.tag.userinfo{background:#dcfce7;color:#166534}.tag.protocol{background:#f3f4f6;color:#6b7280}
.muted{color:#6b7280}.notice{background:#ecfdf5;border-color:#a7f3d0}.error{background:#fef2f2;border-color:#fecaca}
button,.button{font:inherit;font-size:.9rem;padding:.3rem .8rem;border-radius:6px;border:1px solid #2563eb;background:#2563eb;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#1f2937;border-color:#d1d5db}
header button.secondary{background:transparent;color:#e5e7eb;border-color:#4b5563}
form.inline{display:inline;margin:0}
.hint{font-size:.85rem}
@media (max-width:40rem){
header .bar{gap:.35rem .75rem;padding:.5rem .75rem}
header .who{margin-left:0;width:100%;flex-wrap:wrap}
main{margin:1rem auto;padding:0 .6rem}
.card{padding:.75rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere}
td{overflow-wrap:anywhere}td:first-child code{overflow-wrap:normal}
th,td{padding:.3rem .35rem}
}
`;

/** A small key, inline: pages link it, and GET /favicon.ico answers with it (no 404 in the console). */
export const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#2563eb"/><circle cx="12" cy="16" r="6" fill="none" stroke="#fff" stroke-width="3"/><path d="M18 16h10M24 16v5M28 16v4" stroke="#fff" stroke-width="3"/></svg>';
const FAVICON_LINK = `data:image/svg+xml,${encodeURIComponent(FAVICON_SVG)}`;

// A page restored from the back/forward cache would show who was logged in before a logout: reload it.
const BFCACHE_RELOAD = `addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });`;

function nav(req: Request): Html {
  const user = req.user;
  const who = user
    ? html`<span id="who">${String(user.name ?? user.preferred_username ?? user.sub)}</span>
      <form class="inline" method="post" action="/logout?returnTo=%2F%3Flogged-out%3Dlocal"><button class="secondary" id="logout-local" title="Ends the session in this app only; the IdP still remembers you">Log out</button></form>
      <form class="inline" method="post" action="/logout/idp"><button class="secondary" id="logout-idp">Log out at the IdP too</button></form>`
    : html`<a class="button" id="login" href="/login">Log in</a>`;
  return html`<header><div class="bar">
    <a class="brand" href="/">oidc-session example</a>
    <a href="/profile">Profile</a><a href="/tokens">Tokens</a><a href="/admin">Admin</a><a href="/api">API</a><a href="/sessions">Sessions</a>
    <span class="who">${who}</span>
  </div></header>`;
}

/** The whole document around a page's content. */
export function layout(req: Request, title: string, body: Html): string {
  return render(html`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · oidc-session example</title>
<link rel="icon" href="${FAVICON_LINK}">
<style>${trusted(CSS)}</style>
<script>${trusted(BFCACHE_RELOAD)}</script>
</head>
<body>
${nav(req)}
<main>
<h1>${title}</h1>
${body}
</main>
</body>
</html>`);
}
