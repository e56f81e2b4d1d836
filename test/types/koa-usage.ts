// Compile-only: `npm run typecheck` is the assertion. The Koa section's usage, written as a user would.
import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import { createClient } from 'redis';
import { OidcError, claimCheck, oidc, requireRoles } from '../../lib/koa/index.js';
import type { KoaSessionStore, OidcKoaState, OidcUser } from '../../lib/koa/index.js';

declare const store: KoaSessionStore;

// The example, untyped state.
const app = new Koa();
app.keys = ['...'];
app.use(session({ store, sameSite: 'lax' }, app));
const auth = oidc({
  issuer: 'https://idp.example.com',
  clientId: 'app',
  clientSecret: 'secret',
  baseUrl: 'https://app.example.com',
  onLogin: ({ claims, req }) => ({ sub: claims.sub, iss: claims.iss, path: req.path }),
  onError: (err, ctx) => {
    ctx.status = err.status;
    ctx.body = `Sorry (${err.code})`;
  },
});
app.use(auth);
app.use(auth.requireAuth());
const router = new Router();
router.get('/profile', auth.requireAuth({ autoRefresh: false }), (ctx) => {
  ctx.body = ctx.state.user;
});
router.get('/signup', async (ctx) => {
  await ctx.state.oidc.login({ returnTo: '/welcome', authorizationParams: { prompt: 'create' } });
});
app.use(router.routes());

// Typed state with the app's own claims.
interface MyUser extends OidcUser {
  roles?: string[];
}
const typed = new Koa<OidcKoaState<MyUser>>();
const typedRouter = new Router<OidcKoaState<MyUser>>();
typedRouter.get('/me', auth.requireAuth({ acrValues: 'mfa', maxAge: 300 }), async (ctx) => {
  const roles: string[] | undefined = ctx.state.user?.roles;
  const token: string | undefined = await ctx.state.oidc?.getAccessToken({ minTtl: 30 });
  const claims = ctx.state.oidc?.idTokenClaims;
  ctx.body = { roles, token, aud: claims?.aud, expiresAt: ctx.state.oidc?.expiresAt };
});
typedRouter.get('/admin', requireRoles('admin'), claimCheck<MyUser>((user, ctx) => user.sub === ctx.params.owner), (ctx) => {
  ctx.body = 'ok';
});
typed.use(auth);
typed.use(typedRouter.routes());
typed.on('error', (err: unknown) => {
  if (err instanceof OidcError) {
    const code: `ERR_OIDC_${string}` = err.code;
    void code;
  }
});

// The README's koa-session store over node-redis.

const redis = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
export const redisStore: KoaSessionStore = {
  get: async (key) => JSON.parse((await redis.get(`sess:${key}`)) ?? 'null'),
  set: async (key, value, maxAge) => {
    await redis.set(`sess:${key}`, JSON.stringify(value), typeof maxAge === 'number' ? { expiration: { type: 'PX', value: maxAge } } : {});
  },
  destroy: async (key) => {
    await redis.del(`sess:${key}`);
  },
};
new Koa().use(session({ store: redisStore }, new Koa()));
