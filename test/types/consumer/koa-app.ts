// Compiled against the packed tarball: a consumer's Koa app, with the same claims declaration.
import Router from '@koa/router';
import Koa from 'koa';
import session from 'koa-session';
import { oidc, requireRoles } from 'oidc-session/koa';
import type { OidcKoaState } from 'oidc-session/koa';

const app = new Koa<OidcKoaState>();
app.keys = ['k'];
app.use(session({ sameSite: 'lax' }, app));
const auth = oidc({
  issuer: 'https://idp.example.com',
  clientId: 'app',
  baseUrl: 'https://app.example.com',
  onLogin: ({ claims, req: ctx }) => ({ sub: claims.sub, iss: claims.iss, tenant: ctx.hostname }),
});
app.use(auth);
const router = new Router<OidcKoaState>();
router.get('/', (ctx) => {
  const loggedIn: boolean = ctx.state.oidc.isAuthenticated();
  const email: string | undefined = ctx.state.user?.email;
  const tenant: string | undefined = ctx.state.user?.tenant;
  ctx.body = { loggedIn, email, tenant };
});
router.get('/signup', async (ctx) => {
  await ctx.state.oidc.login({ authorizationParams: { prompt: 'create' } });
});
router.get('/admin', auth.requireAuth(), requireRoles('admin'), async (ctx) => {
  ctx.body = await ctx.state.oidc.getAccessToken();
});
app.use(router.routes());

oidc({
  issuer: 'https://idp.example.com',
  clientId: 'app',
  baseUrl: 'https://app.example.com',
  // @ts-expect-error the Koa hook is checked against the same declaration
  onLogin: ({ claims }) => ({ sub: claims.sub, iss: claims.iss }),
});
