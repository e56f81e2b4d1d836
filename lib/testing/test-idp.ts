/**
 * Embedded, in-process OpenID Provider (oidc-provider 9) for tests and demos.
 * Binds to loopback only; nothing leaves the machine.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { OIDCContext } from 'oidc-provider';
import { CookieJar } from './cookie-jar.js';
import { TestIdpStore } from './idp-adapter.js';
import { buildConfiguration, generateSigningKeys, isLoopbackHost } from './idp-config.js';
import { drive } from './idp-driver.js';
import { createInteractionHandler } from './idp-interactions.js';
import { UserDirectory } from './idp-users.js';
import type { ResolvedUser } from './idp-users.js';
import { errorPage } from './idp-pages.js';
import type { IdpEndpoint, TestIdp, TestIdpOptions, TestIdpUser } from './types.js';

export { CookieJar } from './cookie-jar.js';
export { createTestIdpStore, TestIdpStore } from './idp-adapter.js';
export { TestIdpError } from './idp-driver.js';
export type {
  ClientMetadata,
  IdpEndpoint,
  IdpReturn,
  TestIdp,
  TestIdpOptions,
  TestIdpProvider,
  TestIdpResourceServer,
  TestIdpSigningKey,
  TestIdpUser,
} from './types.js';

/** The users a test IdP knows by default: alice/alice (roles `admin`) and bob/bob (roles `user`). */
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

function normalizePrefix(path: string | undefined): string {
  if (!path) return '';
  const trimmed = path.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^\/[A-Za-z0-9._~!$&'()*+,;=:@/-]*$/.test(trimmed)) throw new TypeError(`invalid issuer path ${JSON.stringify(path)}`);
  return trimmed;
}

function publicUser(user: ResolvedUser): TestIdpUser {
  return { username: user.username, password: user.password, sub: user.sub, claims: structuredClone(user.claims) };
}

/**
 * Starts a real OpenID Provider (oidc-provider) in this process, on 127.0.0.1 and a free port, with the
 * clients and users given: for tests (`loginAs`) and local development. Loopback only.
 */
export async function createTestIdp(options: TestIdpOptions): Promise<TestIdp> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host)) throw new TypeError(`the test IdP binds to loopback only, got host ${host}`);
  const prefix = normalizePrefix(options.path);
  const users = new UserDirectory(options.users ?? DEFAULT_TEST_USERS);
  const title = options.title ?? 'Test Identity Provider';
  const autoConsent = options.autoConsent ?? true;

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

  const keys = options.keys?.map((key) => ({ ...key })) ?? generateSigningKeys();
  const store = options.store ?? new TestIdpStore();
  const configuration = buildConfiguration({ options, prefix, users, title, keys, store });

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
      // ctx.oidc only exists on oidc-provider's own routes
      const route = (ctx.oidc as OIDCContext | undefined)?.route;
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
    signingKeys: keys,
    store,
    provider,
    counters,
    resetCounters,
    get users() {
      return users.list().map(publicUser);
    },
    addUser(user) {
      return publicUser(users.add(user));
    },
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
