/**
 * oidc-provider configuration of the embedded test IdP.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { errors } from 'oidc-provider';
import type { Account, Client, Configuration, KoaContextWithOIDC, ResourceServerInfo } from 'oidc-provider';
import { createAdapterFactory } from './idp-adapter.js';
import type { TestIdpStore } from './idp-adapter.js';
import type { UserDirectory } from './idp-users.js';
import { errorPage, loggedOutPage, logoutPage } from './idp-pages.js';
import type { TestIdpOptions, TestIdpSigningKey } from './types.js';

const DAY = 24 * 60 * 60;

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * `fetch` for oidc-provider's outgoing requests (back-channel logout tokens, jwks_uri, ...):
 * loopback targets only. Dropping `dispatcher` also bypasses oidc-provider's SSRF-protecting
 * dispatcher, which would otherwise refuse to connect to 127.0.0.1.
 */
async function loopbackOnlyFetch(url: string | URL, init: RequestInit & { dispatcher?: unknown } = {}): Promise<Response> {
  const target = new URL(url);
  if (!isLoopbackHost(target.hostname)) {
    throw new Error(`the test IdP only talks to loopback addresses, refusing ${target.origin}`);
  }
  const { dispatcher: _ignored, ...rest } = init;
  return fetch(target, rest);
}

/** Fresh signing keys per instance: RS256 (default for ID tokens and JWT access tokens) and ES256. */
export function generateSigningKeys(): TestIdpSigningKey[] {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rs256-${randomUUID()}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `es256-${randomUUID()}`, alg: 'ES256', use: 'sig' },
  ] as TestIdpSigningKey[];
}

export interface ConfigurationInput {
  options: TestIdpOptions;
  /** issuer path prefix ('' or '/idp') */
  prefix: string;
  users: UserDirectory;
  title: string;
  keys: TestIdpSigningKey[];
  store: TestIdpStore;
}

export function buildConfiguration({ options, prefix, users, title, keys, store }: ConfigurationInput): Configuration {
  const accessTokenTtl = options.accessTokenTtl ?? 3600;
  const idTokenTtl = options.idTokenTtl ?? 3600;
  const refreshTokenTtl = options.refreshTokenTtl ?? 14 * DAY;
  const rotate = options.rotateRefreshTokens ?? true;
  const alwaysIssueRefreshTokens = options.issueRefreshTokens ?? true;
  const autoConsent = options.autoConsent ?? true;
  const resourceServers = options.resourceServers ?? {};
  const userinfoOnly = new Set((options.userinfoOnlyClaims ?? []).filter((name) => name !== 'sub'));

  return {
    adapter: createAdapterFactory(15, store),
    clients: options.clients,
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      backchannel_logout_session_required: true,
    },
    jwks: { keys },
    cookies: {
      keys: [...store.cookieKeys],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
    acrValues: ['pwd', 'mfa'],
    claims: {
      acr: null,
      auth_time: null,
      iss: null,
      sid: null,
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username', 'roles'],
      email: ['email', 'email_verified'],
      roles: ['roles'],
    },
    // scope-requested claims go into the ID token too, not only into userinfo
    conformIdTokenClaims: false,
    findAccount(_ctx: KoaContextWithOIDC, id: string): Account | undefined {
      const user = users.bySub(id);
      if (!user) return undefined;
      // oidc-provider asks once per token: `use` is 'id_token' or 'userinfo'.
      const claims = (use: string) => {
        const all: Record<string, unknown> = { ...user.claims, sub: user.sub };
        if (use === 'id_token') for (const name of userinfoOnly) delete all[name];
        return all;
      };
      return { accountId: user.sub, claims };
    },
    interactions: {
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `${prefix}/interaction/${interaction.uid}`,
    },
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { oidc } = ctx;
      const client = oidc.client;
      const grantId = oidc.result?.consent?.grantId ?? (client ? oidc.session?.grantIdFor(client.clientId) : undefined);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      const account = oidc.account;
      if (!autoConsent || !client || !account) return grant;
      if (grant && (grant.accountId !== account.accountId || grant.clientId !== client.clientId)) grant = undefined;
      grant ??= new oidc.provider.Grant({ accountId: account.accountId, clientId: client.clientId });
      const scopes = [...oidc.requestParamOIDCScopes];
      if (scopes.length) grant.addOIDCScope(scopes.join(' '));
      const claims = [...oidc.requestParamClaims];
      if (claims.length) grant.addOIDCClaims(claims);
      for (const [indicator, rs] of Object.entries(oidc.resourceServers)) {
        const rsScopes = [...oidc.requestParamScopes].filter((s) => rs.scopes.has(s));
        if (rsScopes.length) grant.addResourceScope(indicator, rsScopes.join(' '));
      }
      await grant.save();
      return grant;
    },
    issueRefreshToken(_ctx: KoaContextWithOIDC, client: Client, code: { scopes: Set<string> }) {
      return client.grantTypeAllowed('refresh_token') && (alwaysIssueRefreshTokens || code.scopes.has('offline_access'));
    },
    rotateRefreshToken: () => rotate,
    pkce: { required: () => true },
    ttl: {
      AccessToken: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) =>
        token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      ClientCredentials: (_ctx: unknown, token: { resourceServer?: { accessTokenTTL?: number } }) =>
        token.resourceServer?.accessTokenTTL ?? accessTokenTtl,
      AuthorizationCode: 60,
      IdToken: idTokenTtl,
      RefreshToken: refreshTokenTtl,
      Interaction: 60 * 60,
      Session: 14 * DAY,
      Grant: 14 * DAY,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
    },
    clientBasedCORS: () => false,
    // outgoing requests (back-channel logout, jwks_uri, ...): loopback only. This also bypasses
    // oidc-provider's SSRF-protecting dispatcher, which would refuse 127.0.0.1 targets.
    fetch: loopbackOnlyFetch,
    async renderError(ctx: KoaContextWithOIDC, out: Record<string, unknown>) {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
    features: {
      devInteractions: { enabled: false },
      requestObjects: {
        enabled: options.requestObjects !== undefined && options.requestObjects !== false,
        requireSignedRequestObject: typeof options.requestObjects === 'object' && options.requestObjects.requireSigned === true,
      },
      dPoP: options.dpop === false
        ? { enabled: false }
        : { enabled: true, ...(options.dpop?.requireNonce ? { nonceSecret: randomBytes(32), requireNonce: () => true } : {}) },
      userinfo: { enabled: true },
      claimsParameter: { enabled: true },
      backchannelLogout: { enabled: true },
      revocation: {
        enabled: true,
        allowedPolicy: async (ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string }) => {
          if (token.clientId !== client.clientId) {
            if (client.clientAuthMethod === 'none') return false;
            throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
          }
          return true;
        },
      },
      introspection: {
        enabled: true,
        allowedPolicy: async (ctx: KoaContextWithOIDC, client: Client, token: { clientId?: string }) =>
          !(client.clientAuthMethod === 'none' && token.clientId !== ctx.oidc.client?.clientId),
      },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx: KoaContextWithOIDC, form: string) {
          ctx.type = 'html';
          ctx.body = logoutPage(title, ctx.host, form);
        },
        async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
          const client = ctx.oidc.client;
          ctx.type = 'html';
          ctx.body = loggedOutPage(title, client ? (client.clientName ?? client.clientId) : undefined);
        },
      },
      // enabled even without resourceServers so that an unknown `resource` yields invalid_target
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string[]) => oneOf?.[0],
        // a resource requested at authorization gets its access token without repeating `resource` at the token endpoint
        useGrantedResource: async () => options.useGrantedResource ?? true,
        getResourceServerInfo: async (_ctx: unknown, indicator: string): Promise<ResourceServerInfo> => {
          const rs = Object.hasOwn(resourceServers, indicator) ? resourceServers[indicator] : undefined;
          if (!rs) throw new errors.InvalidTarget(`unknown resource indicator ${indicator}`);
          return {
            scope: rs.scope,
            ...(rs.audience ? { audience: rs.audience } : {}),
            accessTokenTTL: accessTokenTtl,
            accessTokenFormat: rs.accessTokenFormat ?? 'jwt',
            ...((rs.accessTokenFormat ?? 'jwt') === 'jwt' ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
  };
}
