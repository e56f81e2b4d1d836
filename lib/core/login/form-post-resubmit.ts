import { escapeHtml, htmlPage } from '../http/html-page.js';
import type { HttpResult } from '../http/messages.js';

/** Marks a callback POST that our own page re-sent, so it is never re-sent twice. */
export const RESUBMIT_MARKER = 'oidc_resubmit';

/**
 * response_mode=form_post arrives as a cross-site POST, for which browsers do not send a SameSite=Lax
 * session cookie. Rather than asking apps to weaken the cookie to SameSite=None, we answer with a page
 * that posts the same parameters again from our own origin, where the cookie is sent.
 */
export function resubmitPage(action: string, params: URLSearchParams): HttpResult {
  const inputs = [...params]
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('');
  const form =
    `<form method="post" action="${escapeHtml(action)}">${inputs}` +
    `<input type="hidden" name="${RESUBMIT_MARKER}" value="1"><button type="submit">Continue signing in</button></form>`;
  return htmlPage(200, 'Signing in…', form, ' onload="document.forms[0].submit()"');
}
