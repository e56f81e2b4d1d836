import { PROTECTED_AUTHORIZATION_PARAMS } from '../config/validators.js';
import type { LoginOverrides } from './start-login.js';
import { OidcError } from '../errors.js';

/** A login an app starts from its own route (`res.oidc.login()`, `ctx.state.oidc.login()`). */
export interface LoginOptions {
  returnTo?: string;
  /** Extra authorization parameters for this login (never client_id, redirect_uri, state...). */
  authorizationParams?: Record<string, string>;
  /** With several IdPs: which one. */
  provider?: string;
}

/** A logout an app starts from its own route (`res.oidc.logout()`, `ctx.state.oidc.logout()`). */
export interface LogoutOptions {
  /** Also end the session at the IdP (RP-initiated logout) for this logout. Default: the `idpLogout` option. */
  idpLogout?: boolean;
  /** Local path to land on when the IdP is not involved. Default `baseUrl`. */
  returnTo?: string;
}

/** The engine's overrides for an app-started login; `caller` names the API in the error message. */
export function appLoginOverrides(options: LoginOptions, caller: string): LoginOverrides {
  for (const key of Object.keys(options.authorizationParams ?? {})) {
    if (PROTECTED_AUTHORIZATION_PARAMS.has(key)) {
      throw new OidcError('ERR_OIDC_INVALID_CONFIG', `${caller}: "authorizationParams.${key}" is set by the library`);
    }
  }
  return {
    ...(options.returnTo !== undefined ? { returnTo: options.returnTo } : {}),
    ...(options.authorizationParams ? { authorizationParams: options.authorizationParams } : {}),
    ...(options.provider !== undefined ? { provider: options.provider } : {}),
  };
}
