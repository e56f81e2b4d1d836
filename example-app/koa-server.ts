// The Koa twin of the example app: `node --import tsx example-app/koa-server.ts`, then open
// http://127.0.0.1:3000 and log in as alice / alice (or bob / bob). With no configuration it starts its
// own OpenID Provider (oidc-provider, in-process, on loopback); set OIDC_ISSUER, OIDC_CLIENT_ID,
// OIDC_CLIENT_SECRET and BASE_URL to use a real IdP instead, and REDIS_URL to keep sessions in Redis.
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import { createClient } from 'redis';
import { oidc, requireRoles } from '../lib/koa/index.js';
import type { KoaSessionStore, OidcKoaState } from '../lib/koa/index.js';
import { createTestIdp } from '../lib/testing/index.js';
import type { TestIdp } from '../lib/testing/index.js';

const port = Number(process.env.PORT ?? 3000);
const baseUrl = process.env.BASE_URL ?? `http://127.0.0.1:${port}`;

/** koa-session keeps only the session key in the cookie; the data (tokens included) stays in this store. */
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

async function redisStore(url: string): Promise<KoaSessionStore> {
  const client = createClient({ url });
  client.on('error', (err: Error) => console.error('redis:', err.message));
  await client.connect();
  const prefix = 'example-koa:sess:';
  return {
    async get(key) {
      const raw = await client.get(prefix + key);
      return raw ? (JSON.parse(raw) as Record<string, unknown>) : undefined;
    },
    async set(key, value, maxAge) {
      const ttl = typeof maxAge === 'number' ? { expiration: { type: 'PX' as const, value: maxAge } } : {};
      await client.set(prefix + key, JSON.stringify(value), ttl);
    },
    async destroy(key) {
      await client.del(prefix + key);
    },
  };
}

/** The IdP to use: a real one from the environment, or the embedded demo IdP on its own loopback port. */
async function identityProvider(): Promise<{ issuer: string; clientId: string; clientSecret: string | undefined; idp?: TestIdp }> {
  if (process.env.OIDC_ISSUER) {
    return { issuer: process.env.OIDC_ISSUER, clientId: process.env.OIDC_CLIENT_ID ?? '', clientSecret: process.env.OIDC_CLIENT_SECRET };
  }
  const clientSecret = randomBytes(24).toString('base64url');
  const idp = await createTestIdp({
    title: 'Demo Identity Provider',
    clients: [
      {
        client_id: 'example-app',
        client_secret: clientSecret,
        redirect_uris: [`${baseUrl}/callback`],
        post_logout_redirect_uris: [`${baseUrl}/`],
        backchannel_logout_uri: `${baseUrl}/backchannel-logout`,
      },
    ],
  });
  return { issuer: idp.issuer, clientId: 'example-app', clientSecret, idp };
}

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:42rem;margin:2rem auto;padding:0 1rem}nav a,nav button{margin-right:1rem}
pre{background:#f4f4f4;padding:1rem;overflow:auto}button{font:inherit;cursor:pointer}form{display:inline}</style></head>
<body><nav><a href="/">Home</a><a href="/profile">Profile</a><a href="/api/me">/api/me</a><a href="/admin">Admin</a></nav>
<h1>${escapeHtml(title)}</h1>${body}</body></html>`;
}

async function main(): Promise<void> {
  const provider = await identityProvider();
  const app = new Koa<OidcKoaState>();
  app.keys = process.env.SESSION_KEYS?.split(',') ?? [randomBytes(32).toString('base64url')];
  app.proxy = process.env.TRUST_PROXY === '1';

  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (caught) {
      const err = caught as { status?: number; code?: string; expose?: boolean; message?: string };
      ctx.status = err.status ?? 500;
      const detail = err.expose && err.message ? err.message : 'Something went wrong.';
      ctx.type = 'html';
      ctx.body = page(`Error ${ctx.status}`, `<p>${escapeHtml(detail)}</p><p><code>${escapeHtml(err.code ?? 'internal')}</code></p>`);
      if (ctx.status >= 500) console.error(caught);
    }
  });
  const store = process.env.REDIS_URL ? await redisStore(process.env.REDIS_URL) : memoryStore();
  app.use(session({ key: 'sid', store, sameSite: 'lax', httpOnly: true, secure: baseUrl.startsWith('https:'), maxAge: 8 * 3600 * 1000 }, app));

  const auth = oidc({
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    baseUrl,
    idpLogout: true,
    backchannelLogout: true,
    logger: console,
  });
  app.use(auth);

  const router = new Router<OidcKoaState>();
  router.get('/', (ctx) => {
    const user = ctx.state.user;
    const hint = provider.idp ? '<p>Demo users: <code>alice</code> / <code>alice</code> (admin) and <code>bob</code> / <code>bob</code>.</p>' : '';
    ctx.type = 'html';
    ctx.body = page(
      'oidc-session on Koa',
      user
        ? `<p>Logged in as <strong>${escapeHtml(String(user.name ?? user.sub))}</strong>.</p>
           <p><a href="/profile">Your profile</a></p><form method="post" action="/logout"><button>Log out</button></form>`
        : `<p>You are not logged in.</p><p><a href="/login">Log in</a></p>${hint}`,
    );
  });
  router.get('/profile', auth.requireAuth(), (ctx) => {
    ctx.type = 'html';
    ctx.body = page(
      'Profile',
      `<p>This is <code>ctx.state.user</code>: the ID token claims merged with userinfo.</p>
       <pre>${escapeHtml(JSON.stringify(ctx.state.user, null, 2))}</pre>
       <p>Access token expires at ${escapeHtml(new Date((ctx.state.oidc?.expiresAt ?? 0) * 1000).toISOString())}.</p>
       <form method="post" action="/logout"><button>Log out</button></form>`,
    );
  });
  router.get('/api/me', auth.requireAuth(), (ctx) => {
    ctx.body = { user: ctx.state.user, expiresAt: ctx.state.oidc?.expiresAt };
  });
  router.get('/admin', requireRoles('admin'), (ctx) => {
    ctx.type = 'html';
    ctx.body = page('Admin', '<p>Only users with the <code>admin</code> role see this page.</p>');
  });
  app.use(router.routes());
  app.use(router.allowedMethods());

  const server: Server = app.listen(port, '127.0.0.1', () => {
    console.log(`Koa example app on ${baseUrl}${provider.idp ? ` (embedded IdP at ${provider.issuer})` : ` (IdP ${provider.issuer})`}`);
  });
  const stop = (): void => {
    server.close();
    server.closeAllConnections();
    void provider.idp?.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
