import type { ResolvedConfig } from '../config/resolved-config.js';
import type { OidcError } from '../errors.js';
import type { HttpResult } from '../http/messages.js';
import type { LoginTransaction } from '../session/session-data.js';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Where a new login for the same page starts: our login route with the pending login's `returnTo`. */
export function loginAgainUrl(cfg: ResolvedConfig, tx: LoginTransaction): string {
  const query = new URLSearchParams({ returnTo: tx.returnTo });
  if (cfg.multiProvider) query.set('provider', tx.provider);
  return cfg.baseUrl.pathname.replace(/\/$/, '') + cfg.routes.login + '?' + query.toString();
}

/**
 * The callback could not finish because the IdP failed after the code may have reached it: the code is
 * probably spent, so rather than a dead end the browser gets a page that starts the login again for the
 * same page. Not automatic: a down IdP must not turn into a redirect loop.
 */
export function loginRetryPage(cfg: ResolvedConfig, tx: LoginTransaction, error: OidcError): HttpResult {
  const href = escapeHtml(loginAgainUrl(cfg, tx));
  const body =
    '<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>Sign-in interrupted</title></head>' +
    '<body><h1>Sign-in interrupted</h1><p>The identity provider did not answer properly, so the sign-in could not be completed.</p>' +
    `<p><a id="retry" href="${href}">Sign in again</a></p><p><small>${escapeHtml(error.code)}</small></p></body></html>`;
  return {
    status: error.status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    },
    body,
  };
}
