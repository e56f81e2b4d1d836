/**
 * The embedded oidc-provider set up for resource-server tests: a JWT resource server, an opaque-token
 * resource server, a confidential web client that obtains tokens (through the real login pages, with
 * openid-client), and the API's own client registered for introspection.
 */
import * as client from 'openid-client';
import { createTestIdp } from '../../lib/testing/index.js';
import type { ClientMetadata, TestIdp, TestIdpOptions } from '../../lib/testing/index.js';

/** JWT access tokens, aud = this resource indicator. */
export const API = 'https://api.example.test';
/** Opaque access tokens: only introspection can tell what they are. */
export const OPAQUE_API = 'https://opaque.example.test';
export const API_SCOPES = 'read:things write:things';
/** The resource server's own credentials at the IdP (for introspection). */
export const API_CLIENT = { clientId: 'api', clientSecret: 'api-secret' };
// The web client is never redirected to for real: nothing listens here.
const REDIRECT_URI = 'http://127.0.0.1:3999/callback';

export interface ApiIdp {
  idp: TestIdp;
  /** openid-client Configuration of the web client. */
  config: client.Configuration;
  /** Log in `username` through the IdP's pages and redeem the code; `params` go on the authorization request. */
  tokens(username: string, params?: Record<string, string>, dpop?: client.DPoPHandle): Promise<client.TokenEndpointResponse>;
  close(): Promise<void>;
}

export async function startApiIdp(extraClients: ClientMetadata[] = [], options: Partial<TestIdpOptions> = {}): Promise<ApiIdp> {
  const idp = await createTestIdp({
    clients: [
      {
        client_id: 'web-app',
        client_secret: 'web-app-secret',
        redirect_uris: [REDIRECT_URI],
        grant_types: ['authorization_code', 'refresh_token'],
      },
      {
        client_id: API_CLIENT.clientId,
        client_secret: API_CLIENT.clientSecret,
        redirect_uris: [],
        grant_types: [],
        response_types: [],
      },
      ...extraClients,
    ],
    resourceServers: {
      [API]: { scope: API_SCOPES },
      [OPAQUE_API]: { scope: API_SCOPES, accessTokenFormat: 'opaque' },
    },
    ...options,
  });
  const config = await client.discovery(new URL(idp.issuer), 'web-app', 'web-app-secret', undefined, {
    execute: [client.allowInsecureRequests],
  });
  return {
    idp,
    config,
    async tokens(username, params = {}, dpop) {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
        ...params,
      });
      const back = await idp.login(url, { username, password: username });
      if (back.method !== 'GET') throw new Error('expected a query response');
      return client.authorizationCodeGrant(config, new URL(back.url), { pkceCodeVerifier: verifier, expectedState: state }, undefined, dpop ? { DPoP: dpop } : undefined);
    },
    close: () => idp.close(),
  };
}
