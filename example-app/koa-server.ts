/**
 * The Koa twin of the example app: `node --import tsx example-app/koa-server.ts`, then open
 * http://127.0.0.1:3000 and log in as alice / alice (or bob / bob). Self-contained; the same environment
 * as `npm start`:
 *
 *   PORT                                              default 3000
 *   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   your IdP (register BASE_URL/callback as redirect URI);
 *                                                     default: an embedded dev IdP on its own loopback port
 *   OIDC_SCOPE, OIDC_ROLES_CLAIM                      optional: scope, where the roles are
 *   OIDC_CLIENT_AUTH_METHOD                           optional: client_secret_basic (default), client_secret_post...
 *   BASE_URL                                          the app's public URL (default http://127.0.0.1:PORT)
 *   REDIS_URL                                         sessions, logout index and refresh lock in Redis
 *   SESSION_SECRET                                    cookie signing key; default: random for each run
 */
import './quiet-runtime-warning.js';
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import { createClient } from 'redis';
import { oidc, requireRoles, resilientStore } from 'oidc-session/koa';
import type { KoaOidcOptions, KoaSessionStore, OidcKoaState } from 'oidc-session/koa';
import { createRedisLock, createRedisSessionIndex } from 'oidc-session/redis';
import { createTestIdp } from 'oidc-session/testing';
import type { TestIdp } from 'oidc-session/testing';

const env = process.env;
const port = Number(env.PORT ?? 3000);
const baseUrl = (env.BASE_URL ?? `http://127.0.0.1:${port}`).replace(/\/$/, '');
const secure = baseUrl.startsWith('https:');

/** In memory: koa-session keeps only the key in the cookie; the data (tokens included) stays here. */
function memoryStore(): KoaSessionStore {
  const records = new Map<string, { value: Record<string, unknown>; expiresAt: number }>();
  return {
    async get(key) {
      const record = records.get(key);
      if (record && record.expiresAt > Date.now()) return structuredClone(record.value);
      records.delete(key);
      return undefined;
    },
    async set(key, value, maxAge) {
      records.set(key, { value: structuredClone(value), expiresAt: Date.now() + (typeof maxAge === 'number' ? maxAge : 86_400_000) });
    },
    async destroy(key) {
      records.delete(key);
    },
  };
}

/** REDIS_URL: sessions, the back-channel logout index and the refresh lock shared by every instance. */
async function redisState(url: string): Promise<Pick<KoaOidcOptions, 'sessionIndex' | 'lock'> & { store: KoaSessionStore; close(): Promise<void> }> {
  // disableOfflineQueue: fail fast while Redis is down instead of queueing (resilientStore answers 503).
  const client = createClient({ url, disableOfflineQueue: true });
  client.on('error', (err: Error) => console.warn(`redis: ${err.message}`));
  await client.connect();
  const prefix = 'oidc-example-koa:';
  const store: KoaSessionStore = {
    get: async (key) => JSON.parse((await client.get(`${prefix}sess:${key}`)) ?? 'null'),
    set: async (key, value, maxAge) => {
      await client.set(`${prefix}sess:${key}`, JSON.stringify(value), typeof maxAge === 'number' ? { expiration: { type: 'PX', value: maxAge } } : {});
    },
    destroy: async (key) => {
      await client.del(`${prefix}sess:${key}`);
    },
  };
  return {
    store: resilientStore(store, { timeoutMs: 2000 }),
    sessionIndex: createRedisSessionIndex(client, { prefix }),
    lock: createRedisLock(client, { prefix }),
    close: () => client.close(),
  };
}

/** Your IdP from the environment, or the embedded dev IdP with this app registered as a client. */
async function identityProvider(): Promise<{ options: Pick<KoaOidcOptions, 'issuer' | 'clientId' | 'clientSecret' | 'scope' | 'rolesClaim' | 'clientAuthMethod'>; dev?: TestIdp }> {
  if (env.OIDC_ISSUER) {
    if (!env.OIDC_CLIENT_ID) throw new Error('OIDC_ISSUER is set, so OIDC_CLIENT_ID must be too');
    return {
      options: {
        issuer: env.OIDC_ISSUER,
        clientId: env.OIDC_CLIENT_ID,
        ...(env.OIDC_CLIENT_SECRET ? { clientSecret: env.OIDC_CLIENT_SECRET } : {}),
        ...(env.OIDC_SCOPE ? { scope: env.OIDC_SCOPE } : {}),
        ...(env.OIDC_ROLES_CLAIM ? { rolesClaim: env.OIDC_ROLES_CLAIM } : {}),
        ...(env.OIDC_CLIENT_AUTH_METHOD ? { clientAuthMethod: env.OIDC_CLIENT_AUTH_METHOD as KoaOidcOptions['clientAuthMethod'] } : {}),
      },
    };
  }
  const clientSecret = randomBytes(24).toString('base64url');
  const dev = await createTestIdp({
    title: 'Dev IdP',
    clients: [
      {
        client_id: 'example-app',
        client_secret: clientSecret,
        client_name: 'the oidc-session Koa example app',
        redirect_uris: [`${baseUrl}/callback`],
        post_logout_redirect_uris: [`${baseUrl}/`],
        backchannel_logout_uri: `${baseUrl}/backchannel-logout`,
      },
    ],
  });
  return { options: { issuer: dev.issuer, clientId: 'example-app', clientSecret }, dev };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}nav a{margin-right:1rem}
pre{background:#f4f4f4;padding:1rem;overflow:auto}button{font:inherit;cursor:pointer}form{display:inline;margin-right:1rem}</style></head>
<body><nav><a href="/">Home</a><a href="/profile">Profile</a><a href="/api/me">/api/me</a><a href="/admin">Admin</a><a href="/sessions">Sessions</a></nav>
<h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

const LOGOUT_BUTTONS = `<form method="post" action="/logout"><button>Log out</button></form>
<form method="post" action="/logout/idp"><button>Log out of the IdP too</button></form>`;

async function main(): Promise<void> {
  const idp = await identityProvider();
  const shared = env.REDIS_URL ? await redisState(env.REDIS_URL) : { store: memoryStore(), close: async () => {} };
  const auth = oidc({ ...idp.options, baseUrl, backchannelLogout: true, ...('lock' in shared ? { lock: shared.lock, sessionIndex: shared.sessionIndex } : {}), logger: console });

  const app = new Koa<OidcKoaState>();
  app.keys = [env.SESSION_SECRET ?? randomBytes(32).toString('base64url')];
  // An https BASE_URL in front of this http server means a TLS proxy: trust X-Forwarded-Proto for the Secure cookie.
  app.proxy = secure;

  app.use(async (ctx, next) => {
    // Cookies belong to a host name: send visits on another name (localhost...) to the one the IdP knows.
    if (!env.BASE_URL && ctx.host !== new URL(baseUrl).host) return ctx.redirect(baseUrl + ctx.originalUrl);
    // Pages show who is logged in: never cache them (Back after a logout must not show a logged-in page).
    ctx.set('Cache-Control', 'no-store');
    try {
      await next();
    } catch (caught) {
      const err = caught as { status?: number; code?: string; expose?: boolean; message?: string; headers?: Record<string, string> };
      ctx.status = err.status ?? 500;
      if (err.headers) ctx.set(err.headers);
      ctx.type = 'html';
      ctx.body = page(`Error ${ctx.status}`, `<p>${escapeHtml(err.expose && err.message ? err.message : 'Something went wrong.')}</p><p><code>${escapeHtml(err.code ?? 'internal')}</code></p><p><a href="/">Home</a></p>`);
      if (ctx.status >= 500) console.error(caught);
    }
  });
  app.use(session({ key: 'sid', store: shared.store, sameSite: 'lax', httpOnly: true, secure, maxAge: 8 * 3600 * 1000 }, app));
  app.use(auth);

  const router = new Router<OidcKoaState>();
  router.get('/', (ctx) => {
    const user = ctx.state.user;
    const hint = idp.dev ? '<p>Dev IdP users: <code>alice</code> / <code>alice</code> (admin) and <code>bob</code> / <code>bob</code> (user).</p>' : '';
    ctx.type = 'html';
    ctx.body = page(
      'oidc-session on Koa',
      user
        ? `<p>Logged in as <strong>${escapeHtml(String(user.name ?? user.sub))}</strong>.</p><p><a href="/profile">Your profile</a></p>${LOGOUT_BUTTONS}`
        : `<p>You are not logged in.</p><p><a href="/login">Log in</a></p>${hint}`,
    );
  });
  router.get('/profile', auth.requireAuth(), (ctx) => {
    const expiresAt = ctx.state.oidc?.expiresAt;
    ctx.type = 'html';
    ctx.body = page(
      'Profile',
      `<p>This is <code>ctx.state.user</code>: the ID token claims merged with userinfo.</p>
       <pre>${escapeHtml(JSON.stringify(ctx.state.user, null, 2))}</pre>
       ${expiresAt ? `<p>The access token expires at ${escapeHtml(new Date(expiresAt * 1000).toISOString())}.</p>` : ''}
       ${LOGOUT_BUTTONS}`,
    );
  });
  router.get('/api/me', auth.requireAuth(), (ctx) => {
    ctx.body = { user: ctx.state.user, expiresAt: ctx.state.oidc?.expiresAt };
  });
  router.get('/admin', requireRoles('admin'), (ctx) => {
    ctx.type = 'html';
    ctx.body = page('Admin', '<p>Only users with the <code>admin</code> role see this page.</p>');
  });
  // Where the user is logged in to this app (the session index), and "log out everywhere".
  router.get('/sessions', auth.requireAuth(), async (ctx) => {
    const sessions = (await ctx.state.oidc?.listSessions()) ?? [];
    const rows = sessions.map((s) => `<li>since ${escapeHtml(new Date(s.createdAt * 1000).toISOString())}${s.current ? ' <strong>(this browser)</strong>' : ''}</li>`);
    ctx.type = 'html';
    ctx.body = page('Sessions', `<p id="session-count">${sessions.length} session(s):</p><ul>${rows.join('')}</ul>
      <form method="post" action="/sessions/logout-everywhere"><button>Log out everywhere</button></form>`);
  });
  router.post('/sessions/logout-everywhere', auth.requireAuth(), async (ctx) => {
    await ctx.state.oidc?.logoutEverywhere();
    ctx.status = 303;
    ctx.redirect('/');
  });
  // POST /logout (the library's route) ends the local session; this one ends the IdP session too.
  router.post('/logout/idp', async (ctx) => {
    await ctx.state.oidc?.logout({ idpLogout: true });
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const server: Server = app.listen(port, '127.0.0.1', () => {
    console.log(`oidc-session Koa example app: ${baseUrl}`);
    console.log(idp.dev ? `  IdP: embedded dev IdP at ${idp.dev.issuer}; log in as alice / alice (admin), bob / bob (user)` : `  IdP: ${idp.options.issuer}`);
    console.log(`  Sessions: ${env.REDIS_URL ? 'Redis' : 'in memory (set REDIS_URL to use Redis)'}`);
  });
  const stop = (): void => {
    server.closeAllConnections();
    server.close();
    void idp.dev?.close();
    void shared.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`Koa example app: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
