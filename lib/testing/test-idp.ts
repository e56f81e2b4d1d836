/**
 * Embedded, in-process OpenID Provider (oidc-provider 9) for tests and demos.
 * Binds to loopback only; nothing leaves the machine.
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { errors } from 'oidc-provider';
import type { Account, Client, KoaContextWithOIDC, ResourceServerInfo } from 'oidc-provider';
import { CookieJar } from './cookie-jar.js';
import { createAdapterFactory } from './idp-adapter.js';
import { drive } from './idp-driver.js';
import { createInteractionHandler } from './idp-interactions.js';
import type { ResolvedUser } from './idp-interactions.js';
import { errorPage, loggedOutPage, logoutPage } from './idp-pages.js';
import type { IdpEndpoint, TestIdp, TestIdpOptions, TestIdpUser } from './types.js';

export { CookieJar } from './cookie-jar.js';
export { TestIdpError } from './idp-driver.js';
export type {
  ClientMetadata,
  IdpEndpoint,
  IdpReturn,
  TestIdp,
  TestIdpOptions,
  TestIdpResourceServer,
  TestIdpUser,
} from './types.js';

export const DEFAULT_TEST_USERS: readonly TestIdpUser[] = Object.freeze([
  {
    username: 'alice',
    password: 'alice',
    claims: {
      name: 'Alice Admin',
      given_name: 'Alice',
      family_name: 'Admin',
      preferred_username: 'alice',
      email: 'alice@example.test',
      email_verified: true,
      roles: ['admin'],
    },
  },
  {
    username: 'bob',
    password: 'bob',
    claims: {
      name: 'Bob User',
      given_name: 'Bob',
      family_name: 'User',
      preferred_username: 'bob',
      email: 'bob@example.test',
      email_verified: true,
      roles: ['user'],
    },
  },
]);

const ENDPOINTS: readonly IdpEndpoint[] = [
  'discovery', 'jwks', 'authorization', 'token', 'userinfo', 'end_session', 'revocation', 'introspection', 'backchannel',
];
const DAY = 24 * 60 * 60;

function normalizePrefix(path: string | undefined): string {
  if (!path) return '';
  const trimmed = path.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(trimmed)) throw new TypeError(`invalid issuer path ${JSON.stringify(path)}`);
  return trimmed;
}

function resolveUsers(users: readonly TestIdpUser[]): ResolvedUser[] {
  const seen = new Set<string>();
  return users.map((u) => {
    const sub = u.sub ?? u.username;
    if (seen.has(`u:${u.username}`) || seen.has(`s:${sub}`)) throw new TypeError(`duplicate test user ${u.username}`);
    seen.add(`u:${u.username}`);
    seen.add(`s:${sub}`);
    return { username: u.username, password: u.password, sub, claims: { ...u.claims } };
  });
}

function signingKeys() {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rs256-${randomUUID()}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `es256-${randomUUID()}`, alg: 'ES256', use: 'sig' },
  ];
}

export async function createTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const host = options.host ?? '127.0.0.1';
  const prefix = normalizePrefix(options.path);
  const users = resolveUsers(options.users ?? DEFAULT_TEST_USERS);
  const usersBySub = new Map(users.map((u) => [u.sub, u]));
  const title = options.title ?? 'Test Identity Provider';
  const accessTokenTtl = options.accessTokenTtl ?? 3600;
  const idTokenTtl = options.idTokenTtl ?? 3600;
  const refreshTokenTtl = options.refreshTokenTtl ?? 14 * DAY;
  const rotate = options.rotateRefreshTokens ?? true;
  const alwaysIssueRefreshTokens = options.issueRefreshTokens ?? true;
  const autoConsent = options.autoConsent ?? true;
  const resourceServers = options.resourceServers ?? {};

  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = host.includes(':') ? `[${host}]` : host;
  const issuer = `http://${hostForUrl}:${port}${prefix}`;

  const configuration = {
    adapter: createAdapterFactory(),
    clients: options.clients,
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      backchannel_logout_session_required: true,
    },
    jwks: { keys: signingKeys() },
    cookies: {
      keys: [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')],
      long: { httpOnly: true, sameSite: 'lax' },
      short: { httpOnly: true, sameSite: 'lax' },
    },
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
      const user = usersBySub.get(id);
      if (!user) return undefined;
      return { accountId: user.sub, claims: () => ({ ...user.claims, sub: user.sub }) };
    },
    interactions: {
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => `${prefix}/interaction/${interaction.uid}`,
    },
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const { oidc } = ctx;
      const client = oidc.client;
      const grantId = oidc.result?.consent?.grantId ?? (client ? oidc.session?.grantIdFor(client.clientId) : undefined);
      let grant = grantId ? await provider.Grant.find(grantId) : undefined;
      const account = oidc.account;
      if (!autoConsent || !client || !account) return grant;
      if (grant && (grant.accountId !== account.accountId || grant.clientId !== client.clientId)) grant = undefined;
      grant ??= new provider.Grant({ accountId: account.accountId, clientId: client.clientId });
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
    async renderError(ctx: KoaContextWithOIDC, out: Record<string, unknown>) {
      ctx.type = 'html';
      ctx.body = errorPage(out);
    },
    features: {
      devInteractions: { enabled: false },
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
        useGrantedResource: async () => true,
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

  let provider: Provider;
  try {
    provider = new Provider(issuer, configuration);
  } catch (err) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw err;
  }
  provider.proxy = false;

  const counters = Object.fromEntries(ENDPOINTS.map((e) => [e, 0])) as Record<IdpEndpoint, number>;
  const resetCounters = () => {
    for (const e of ENDPOINTS) counters[e] = 0;
  };
  provider.use(async (ctx, next) => {
    try {
      await next();
    } finally {
      const route = ctx._matchedRouteName;
      if (typeof route === 'string' && route !== 'backchannel' && (ENDPOINTS as readonly string[]).includes(route)) {
        counters[route as IdpEndpoint] += 1;
      }
    }
  });
  provider.on('backchannel.success', () => { counters.backchannel += 1; });
  provider.on('backchannel.error', () => { counters.backchannel += 1; });
  // keep the test output quiet: errors are rendered to the client anyway
  provider.on('server_error', () => {});

  const interactions = createInteractionHandler({ provider, prefix, title, users, autoConsent });
  const callback = provider.callback();

  server.on('request', (req: IncomingMessage & { baseUrl?: string }, res: ServerResponse) => {
    const original = req.url ?? '/';
    const qIndex = original.indexOf('?');
    let pathname = qIndex === -1 ? original : original.slice(0, qIndex);
    const search = qIndex === -1 ? '' : original.slice(qIndex);

    if (prefix) {
      if (pathname === `/.well-known/oauth-authorization-server${prefix}`) {
        // RFC 8414 path-insertion discovery URL for an issuer with a path
        pathname = `${prefix}/.well-known/oauth-authorization-server`;
      }
      if (pathname !== prefix && !pathname.startsWith(`${prefix}/`)) {
        res.statusCode = 404;
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(errorPage({ error: 'not_found', error_description: `the test IdP lives under ${prefix}` }));
        return;
      }
      pathname = pathname.slice(prefix.length) || '/';
    }

    if (pathname.startsWith('/interaction/')) {
      void interactions(req, res, pathname);
      return;
    }
    // mounted like express would (oidc-provider's urlFor() falls back to req.baseUrl as the mount path)
    req.url = `${pathname}${search}`;
    if (prefix) req.baseUrl = prefix;
    void callback(req, res);
  });

  let closed: Promise<void> | undefined;
  const idp: TestIdp = {
    issuer,
    provider,
    counters,
    resetCounters,
    login(authorizationUrl, credentials, jar) {
      return drive(authorizationUrl, { issuer, mode: 'login', credentials, jar: jar ?? new CookieJar() });
    },
    logout(endSessionUrl, jar) {
      return drive(endSessionUrl, { issuer, mode: 'logout', jar });
    },
    close() {
      closed ??= new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
      return closed;
    },
  };
  return idp;
}
