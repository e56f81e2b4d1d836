import type { Configuration } from 'openid-client';
import type { TtlLock } from '../stores/lock.js';
import type { ClientAuthMethod, Clock, Logger, LoginEvent, LogoutEvent, RefreshEvent } from './options.js';
import type { SessionIndex } from '../stores/session-index.js';
import type { ResolvedDpop } from './dpop-option.js';
import type { ResolvedRequestObject } from './request-object.js';

/** One IdP's part of the validated configuration (resolveProviders()). */
export interface ResolvedProvider {
  readonly id: string;
  readonly issuer: string | undefined;
  readonly clientId: string;
  readonly clientSecret: string | undefined;
  readonly config: Configuration | undefined;
  readonly clientAuthMethod: ClientAuthMethod;
  readonly privateKey: Record<string, unknown> | string | undefined;
  readonly idTokenSigningAlg: string;
  readonly scope: string;
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly responseMode: 'query' | 'form_post';
  readonly pushedAuthorizationRequests: boolean;
  /** JAR: sign the authorization request with this key. */
  readonly requestObject: ResolvedRequestObject | undefined;
  /** RFC 8707 resource indicators sent at login. */
  readonly resources: readonly string[];
  /** Absolute redirect_uri registered at the IdP. */
  readonly redirectUri: string;
  /** Path (relative to where the middleware is mounted) that receives the callback. */
  readonly callbackPath: string;
  /** Path of this provider's back-channel logout endpoint. */
  readonly backchannelPath: string;
  readonly allowInsecureRequests: boolean;
}

/** The validated, frozen configuration of one `oidc()` instance (resolveConfig()). */
export interface ResolvedConfig {
  readonly baseUrl: URL;
  readonly origin: string;
  readonly providers: readonly ResolvedProvider[];
  readonly multiProvider: boolean;
  readonly routes: {
    readonly login: string;
    readonly callback: string;
    readonly logout: string;
    readonly postLogoutRedirect: string;
    readonly backchannelLogout: string;
  };
  readonly idpLogout: boolean;
  readonly httpTimeoutMs: number;
  readonly clockToleranceSec: number;
  readonly jwksCooldownSec: number;
  readonly transactionTtlSec: number;
  readonly maxTransactions: number;
  readonly maxResourceTokens: number;
  readonly sessionKey: string;
  readonly fetchUserinfo: boolean;
  readonly loginParams: ReadonlySet<string>;
  readonly absoluteDurationSec: number;
  /** The option, or by default node:http(s) over keep-alive connections of this instance (idp/http-fetch.ts). */
  readonly customFetch: typeof fetch;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly autoRefresh: boolean;
  readonly dpop: ResolvedDpop | undefined;
  readonly lock: TtlLock;
  readonly sessionIndex: SessionIndex;
  readonly backchannelLogout: boolean;
  readonly revokeTokens: boolean;
  readonly keepSessionData: boolean | readonly string[];
  readonly rolesClaim: string | readonly string[];
  readonly attemptSilentLogin: boolean;
  readonly onLogin: ((event: LoginEvent) => unknown) | undefined;
  readonly onLogout: ((event: LogoutEvent) => unknown) | undefined;
  readonly onRefresh: ((event: RefreshEvent) => unknown) | undefined;
}
