import type { HttpResult } from '../http/messages.js';

/** Marks a callback POST that our own page re-sent, so it is never re-sent twice. */
export const RESUBMIT_MARKER = 'oidc_resubmit';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * response_mode=form_post arrives as a cross-site POST, for which browsers do not send a SameSite=Lax
 * session cookie. Rather than asking apps to weaken the cookie to SameSite=None, we answer with a page
 * that posts the same parameters again from our own origin, where the cookie is sent.
 */
export function resubmitPage(action: string, params: URLSearchParams): HttpResult {
  const inputs = [...params]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const body =
    '<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Signing in…</title></head>' +
    `<body onload="document.forms[0].submit()"><form method="post" action="${escapeHtml(action)}">${inputs}` +
    `<input type="hidden" name="${RESUBMIT_MARKER}" value="1"><button type="submit">Continue signing in</button></form></body></html>`;
  return {
    status: 200,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    },
    body,
  };
}
