import type { ResolvedConfig } from '../config/resolved-config.js';
import type { OidcError } from '../errors.js';
import { escapeHtml, htmlPage } from '../http/html-page.js';
import type { HttpResult } from '../http/messages.js';
import type { LoginTransaction } from '../session/session-data.js';

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
  return htmlPage(
    error.status,
    'Sign-in interrupted',
    '<h1>Sign-in interrupted</h1><p>The identity provider did not answer properly, so the sign-in could not be completed.</p>' +
      `<p><a id="retry" href="${href}">Sign in again</a></p><p><small>${escapeHtml(error.code)}</small></p>`,
  );
}
