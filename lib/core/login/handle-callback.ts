import { OidcError } from '../errors.js';
import type { ResolvedConfig } from '../config/resolved-config.js';
import { pathOf, redirect } from '../http/messages.js';
import type { HttpRequest, HttpResult } from '../http/messages.js';
import type { DiscoverProvider } from '../idp/provider-client.js';
import { neverReachedIdp, toIdpError } from '../idp/upstream-error.js';
import { tokenSet } from '../session/session-data.js';
import type { AuthenticatedSession, LoginTransaction, OidcSessionData, SessionPort } from '../session/session-data.js';
import { completeCallback, parseCallbackParams } from './callback.js';
import { RESUBMIT_MARKER, resubmitPage } from './form-post-resubmit.js';
import { pruneTransactions, takeTransaction } from './transactions.js';
import { withCallbackClaim } from './callback-claim.js';
import { loginRetryPage } from './login-retry-page.js';
import type { DpopKeys } from '../tokens/dpop-keys.js';
import { isIdpFailure } from '../tokens/refresh.js';
import type { IdTokenClaims, UserinfoClaims } from '../config/claims.js';

export interface CallbackInput {
  req: HttpRequest;
  session: SessionPort;
  /** The query string (GET) or the urlencoded body (POST, response_mode=form_post). */
  rawParams: string;
  /** The provider whose callback route received it (mix-up defence). */
  routeProvider: string;
  /** The framework's request, for `onLogin`. */
  appReq: unknown;
}

/** The IdP side of a callback: its discovered metadata and the DPoP key of a login (when DPoP is on). */
export interface CallbackIdp {
  discovered: DiscoverProvider;
  dpop: DpopKeys;
}

/** IdP errors that only mean "not logged in at the IdP" when a silent login was tried. */
const SILENT_LOGIN_ERRORS = new Set(['login_required', 'consent_required', 'interaction_required', 'account_selection_required']);

/**
 * The callback, start to end: the response is parsed and judged (callback.ts), its pending login is
 * claimed once (a second copy of the same callback is refused), the code is redeemed (callback.ts), the
 * app may refuse the login (`onLogin`), and the session is regenerated with the login in it. A failure
 * that never reached the IdP keeps the pending login; an IdP failure gives a browser a retry page.
 */
export async function handleCallback(cfg: ResolvedConfig, idp: CallbackIdp, input: CallbackInput): Promise<HttpResult> {
  const { req, session, rawParams, routeProvider } = input;
  const { params, state } = parseCallbackParams(rawParams);
  const resubmitted = params.get(RESUBMIT_MARKER) === '1';
  params.delete(RESUBMIT_MARKER);
  const data = session.read();
  const { tx, rest } = takeTransaction(data, state);
  cfg.logger.debug('oidc-session: callback', { method: req.method, pendingLogins: Object.keys(data?.transactions ?? {}).length, matched: tx !== undefined });
  if (!tx) {
    if (req.method === 'POST' && !resubmitted) return resubmitPage(pathOf(req.originalUrl), params);
    throw missingTransaction(req, data);
  }
  // Two copies of one callback racing (double click, replay): only the first may redeem the code.
  return withCallbackClaim(cfg.lock, session, state, cfg.transactionTtlSec * 1000, async () => {
    session.write({ ...data, transactions: rest });
    const nowSec = Math.floor(cfg.clock() / 1000);
    try {
      if (nowSec - tx.createdAt >= cfg.transactionTtlSec) {
        throw new OidcError('ERR_OIDC_MISSING_TRANSACTION', 'The pending login for this callback has expired; start again');
      }
      if (tx.provider !== routeProvider) {
        throw new OidcError('ERR_OIDC_INVALID_CALLBACK', 'This callback belongs to another identity provider than the login it answers');
      }
      if (tx.silent && SILENT_LOGIN_ERRORS.has(params.get('error') ?? '')) {
        await session.save();
        return redirect(tx.returnTo, req.method === 'POST' ? 303 : 302);
      }
      const auth = await completeLogin(cfg, idp, input, { params, state, tx, previous: data, rest, nowSec });
      cfg.logger.info('oidc-session: login', { sub: auth.sub, iss: auth.iss, provider: auth.provider });
      return redirect(tx.returnTo, req.method === 'POST' ? 303 : 302);
    } catch (err) {
      const error = err instanceof OidcError ? err : toIdpError(err, 'token');
      cfg.logger.warn('oidc-session: login failed', { code: error.code, cause: (error.cause as { code?: string } | undefined)?.code });
      if (neverReachedIdp(error)) {
        // The code never left: keep the pending login so that the same callback can be tried again.
        session.write(data);
        await session.save().catch(() => undefined);
        throw error;
      }
      await session.save().catch(() => undefined);
      // A browser gets a way out; anything else (and the app's error handler) gets the error as before.
      if (isIdpFailure(error) && (req.header('accept') ?? '').includes('text/html')) return loginRetryPage(cfg, tx, error);
      throw error;
    }
  });
}

/**
 * A callback without its pending login. A session that holds nothing of ours means the browser did not
 * send the session cookie back (or the store lost it): a different code than a state we do not know.
 */
function missingTransaction(req: HttpRequest, data: OidcSessionData | undefined): OidcError {
  if (data === undefined) {
    const cookies = req.header('cookie') ? 'the session it sent holds no pending login' : 'the request carried no cookies at all';
    return new OidcError(
      'ERR_OIDC_NO_SESSION_COOKIE',
      `The callback arrived without the session of the login (${cookies}). Usual causes: the callback URL's host name ` +
        'differs from the one /login was opened on (127.0.0.1 vs localhost), the cookie\'s domain or path does not cover ' +
        'the callback, SameSite=Strict, a Secure cookie over http (behind a proxy: trust proxy), or the session store lost it.',
    );
  }
  return new OidcError('ERR_OIDC_MISSING_TRANSACTION', 'No pending login matches this callback (unknown, expired or already used "state")');
}

/** A callback whose pending login this request claimed. */
interface ClaimedLogin {
  params: URLSearchParams;
  state: string;
  tx: LoginTransaction;
  /** Our session data as the callback found it. */
  previous: OidcSessionData | undefined;
  /** The other pending logins (other tabs), kept over the regenerate. */
  rest: Record<string, LoginTransaction>;
  nowSec: number;
}

async function completeLogin(cfg: ResolvedConfig, idp: CallbackIdp, input: CallbackInput, claimed: ClaimedLogin): Promise<AuthenticatedSession> {
  const { session, appReq } = input;
  const { params, state, tx, previous, rest, nowSec } = claimed;
  const provider = await idp.discovered(tx.provider);
  const result = await completeCallback(cfg, provider, params, state, tx, await idp.dpop.forLogin(provider));
  const auth = result.auth;
  if (cfg.onLogin) {
    let user: unknown;
    try {
      const claims = result.claims as IdTokenClaims;
      const userinfo = result.userinfo as UserinfoClaims | undefined;
      user = await cfg.onLogin({ claims, userinfo, tokens: tokenSet(auth), provider: auth.provider, req: appReq });
    } catch (err) {
      throw err instanceof OidcError ? err : new OidcError('ERR_OIDC_LOGIN_REFUSED', 'The application refused this login', { cause: err });
    }
    if (user === false) throw new OidcError('ERR_OIDC_LOGIN_REFUSED', 'The application refused this login');
    if (typeof user === 'object' && user !== null) auth.user = user as Record<string, unknown>;
  }
  const kept = keptAppData(cfg, session, previous?.auth, auth);
  const pending = pruneTransactions(rest, nowSec, cfg.transactionTtlSec, cfg.maxTransactions);
  await session.regenerate();
  await cfg.sessionIndex.add(auth, session.id(), cfg.absoluteDurationSec);
  session.writeAppData(kept);
  session.write({ ...(Object.keys(pending).length ? { transactions: pending } : {}), ...(previous?.silentTried ? { silentTried: true } : {}), auth });
  await session.save();
  return auth;
}

/** App data carried over the regenerate: only when asked for, and never into another user's login. */
function keptAppData(cfg: ResolvedConfig, session: SessionPort, previous: AuthenticatedSession | undefined, next: AuthenticatedSession): Record<string, unknown> {
  const keep = cfg.keepSessionData;
  if (keep === false) return {};
  if (previous && (previous.sub !== next.sub || previous.iss !== next.iss)) return {};
  const data = session.readAppData();
  if (keep === true) return data;
  return Object.fromEntries(keep.filter((key) => key in data).map((key) => [key, data[key]]));
}
