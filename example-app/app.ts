/**
 * The example app. startExampleApp() wires express-session, oidc() and the pages, against an embedded
 * dev IdP (default) or your IdP. server.ts calls it with settings from the environment; the browser
 * tests call it with port 0.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import session from 'express-session';
import type { Store } from 'express-session';
import { oidc, requireBearer } from 'oidc-session/express';
import type { Logger, OidcMiddleware, OidcOptions, RefreshLock, SessionIndex } from 'oidc-session/express';
import { createTestIdp } from 'oidc-session/testing';
import type { TestIdp, TestIdpOptions } from 'oidc-session/testing';
import { apiPage, apiRoutes } from './api.js';
import { FAVICON_SVG } from './html.js';
import { adminRoutes, errorPages, home, logoutRoutes, profile } from './pages.js';
import { sessionRoutes } from './sessions.js';
import { tokenRoutes } from './tokens.js';

/** Claims the embedded dev IdP releases at userinfo only, never in the ID token. */
export const USERINFO_ONLY_CLAIMS = ['email', 'email_verified'] as const;

export interface RealIdp {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scope?: string | undefined;
  /** Where the roles are, e.g. `realm_access.roles` (Keycloak) or `groups`. Default `roles`. */
  rolesClaim?: string | undefined;
  /** e.g. `client_secret_post` for an IdP that does not form-decode Basic credentials. Default `client_secret_basic`. */
  clientAuthMethod?: OidcOptions['clientAuthMethod'];
}

export interface ExampleAppOptions {
  /** Default 3000; 0 picks a free port. The app listens on 127.0.0.1. */
  port?: number;
  /** The app's public URL. Default http://127.0.0.1:<port>. */
  baseUrl?: string | undefined;
  /** Your IdP. Default: an embedded dev IdP on its own loopback port. */
  idp?: RealIdp | undefined;
  /** Settings for the embedded dev IdP (the tests shorten token lifetimes). */
  devIdp?: Partial<TestIdpOptions>;
  /** Keep sessions, the logout index and the refresh lock in Redis. Default: in memory. */
  redisUrl?: string | undefined;
  /** Default: random for this run. */
  sessionSecret?: string | undefined;
  /** DPoP-bound tokens (a key pair per session); an IdP without DPoP keeps issuing Bearer tokens. Default true. */
  dpop?: boolean | undefined;
  logger?: Logger;
}

/** State several instances must share (example-app/redis.ts); undefined members mean in memory. */
export interface SharedState {
  store?: Store;
  sessionIndex?: SessionIndex;
  lock?: RefreshLock;
  description: string;
  close(): Promise<void>;
}

export interface ExampleApp {
  /** Where this process listens. */
  url: string;
  baseUrl: string;
  /** The embedded dev IdP, when there is no real one. */
  devIdp: TestIdp | undefined;
  /** What it runs against, for the startup banner. */
  summary: string[];
  close(): Promise<void>;
}

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

async function listen(server: Server, port: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

interface DevIdp {
  idp: TestIdp;
  /** "alice / alice (admin), bob / bob (user)" */
  users: string;
}

/** The dev IdP, with this app registered as a client: redirect, post-logout and back-channel logout URIs. */
async function startDevIdp(baseUrl: string, options: Partial<TestIdpOptions> = {}): Promise<{ idp: RealIdp; dev: DevIdp }> {
  const clientSecret = randomBytes(24).toString('base64url');
  const idp = await createTestIdp({
    title: 'Dev IdP',
    accessTokenTtl: 300,
    // As many IdPs do, some claims come from the userinfo endpoint only: /profile shows the difference.
    userinfoOnlyClaims: [...USERINFO_ONLY_CLAIMS],
    clients: [{
      client_id: 'example-app',
      client_secret: clientSecret,
      client_name: 'the oidc-session example app',
      redirect_uris: [`${baseUrl}/callback`],
      post_logout_redirect_uris: [`${baseUrl}/`],
      backchannel_logout_uri: `${baseUrl}/backchannel-logout`,
    }],
    ...options,
  });
  const users = idp.users.map((u) => `${u.username} / ${u.password} (${[u.claims?.roles].flat().join(', ')})`).join(', ');
  return { idp: { issuer: idp.issuer, clientId: 'example-app', clientSecret }, dev: { idp, users } };
}

function oidcOptions(idp: RealIdp, shared: SharedState, baseUrl: string, logger: Logger, dpop: boolean): OidcOptions {
  const options: OidcOptions = {
    issuer: idp.issuer,
    clientId: idp.clientId,
    baseUrl,
    dpop,
    // The dev IdP calls POST /backchannel-logout when the session ends there (register it at yours too).
    backchannelLogout: true,
    logger,
  };
  if (idp.clientSecret) options.clientSecret = idp.clientSecret;
  if (idp.scope) options.scope = idp.scope;
  if (idp.rolesClaim) options.rolesClaim = idp.rolesClaim;
  if (idp.clientAuthMethod) options.clientAuthMethod = idp.clientAuthMethod;
  if (shared.sessionIndex) options.sessionIndex = shared.sessionIndex;
  if (shared.lock) options.lock = shared.lock;
  return options;
}

export async function startExampleApp(options: ExampleAppOptions = {}): Promise<ExampleApp> {
  const logger = options.logger ?? SILENT;
  const server = createServer();
  const port = await listen(server, options.port ?? 3000);
  const url = `http://127.0.0.1:${port}`;
  const baseUrl = (options.baseUrl ?? url).replace(/\/$/, '');
  let idp: RealIdp;
  let dev: DevIdp | undefined;
  let shared: SharedState | undefined;
  let auth: OidcMiddleware;
  try {
    ({ idp, dev } = options.idp ? { idp: options.idp } : await startDevIdp(baseUrl, options.devIdp));
    shared = options.redisUrl
      ? await (await import('./redis.js')).redisState(options.redisUrl, logger)
      : { description: 'in memory (set REDIS_URL to use Redis)', close: async () => {} };
    auth = oidc(oidcOptions(idp, shared, baseUrl, logger, options.dpop ?? true));   // throws on a bad option, naming it
  } catch (err) {
    server.close();
    await dev?.idp.close();
    await shared?.close();
    throw err;
  }
  const state = shared;
  const secure = new URL(baseUrl).protocol === 'https:';

  const app = express();
  app.disable('x-powered-by');
  // An https BASE_URL in front of this http server means a TLS proxy: trust its X-Forwarded-Proto so that
  // express-session sets the Secure cookie.
  if (secure) app.set('trust proxy', 1);
  if (!options.baseUrl) {
    // Cookies belong to a host name: a visit to http://localhost:3000 would lose the login that the IdP
    // sends back to 127.0.0.1. Send such visits to the one URL the IdP knows.
    app.use((req, res, next) => (req.headers.host === new URL(baseUrl).host ? next() : res.redirect(baseUrl + req.originalUrl)));
  }
  // Pages show who is logged in: never cache them, so Back after a logout cannot show a logged-in page.
  app.use((_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  app.use(session({
    name: 'sid',
    secret: options.sessionSecret ?? randomBytes(32).toString('hex'),
    resave: false,
    saveUninitialized: false,
    ...(state.store ? { store: state.store } : {}),
    cookie: { httpOnly: true, sameSite: 'lax', secure },
  }));

  app.use(auth);

  const settings = { devUsers: dev?.users, logger, userinfoOnly: dev ? [...USERINFO_ONLY_CLAIMS] : [] };
  // Browsers ask for it on every first visit; the pages link an inline icon, this answers the others.
  app.get('/favicon.ico', (_req, res) => {
    res.set('Cache-Control', 'public, max-age=86400').type('image/svg+xml').send(FAVICON_SVG);
  });
  app.get('/', home(settings));
  app.get('/profile', auth.requireAuth(), profile(settings));
  tokenRoutes(app, auth.requireAuth());
  adminRoutes(app);
  sessionRoutes(app, auth, auth.requireAuth());
  // The API accepts the session (browser) or the access token (any other client). The dev IdP issues
  // opaque access tokens, which are checked at its introspection endpoint with the app's credentials.
  const introspectionAuth = idp.clientAuthMethod === 'client_secret_post' ? { clientAuthMethod: 'client_secret_post' as const } : {};
  const bearer = idp.clientSecret
    ? { audience: idp.clientId, introspection: { clientId: idp.clientId, clientSecret: idp.clientSecret, ...introspectionAuth } }
    : undefined;
  apiRoutes(app, bearer ? auth.requireAuth({ bearer: { ...bearer, dpop: {} } }) : auth.requireAuth(),
    // A DPoP-only copy of the API: a token without a proof (or a Bearer token) is refused.
    bearer ? requireBearer({ issuer: idp.issuer, ...bearer, baseUrl, dpop: { required: true } }) : undefined);
  apiPage(app, auth.requireAuth(), () => url, Boolean(bearer));
  logoutRoutes(app);
  const { notFound, onError } = errorPages(settings);
  app.use(notFound);
  app.use(onError);
  server.on('request', app);

  const summary = [
    `oidc-session example app: ${baseUrl}${baseUrl === url ? '' : ` (listening on ${url})`}`,
    dev ? `  IdP:      embedded dev IdP at ${dev.idp.issuer}; log in as ${dev.users}` : `  IdP:      ${idp.issuer} (client ${idp.clientId})`,
    `  Sessions: ${state.description}`,
    options.sessionSecret ? '' : '  Secret:   random for this run (set SESSION_SECRET to keep sessions across restarts)',
  ].filter(Boolean);

  return {
    url,
    baseUrl,
    devIdp: dev?.idp,
    summary,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dev?.idp.close();
      await state.close();
    },
  };
}
