// Compiled against the packed tarball by test/types/run-consumer.mjs: a consumer's Express app.
// "Compilation is the assertion": every @ts-expect-error must be an error, everything else must compile.
import express from 'express';
import session from 'express-session';
import { OidcError, oidc, requireRoles } from 'oidc-session/express';
import type { IdTokenClaims, OidcUser, StandardClaims } from 'oidc-session/express';

const app = express();
app.set('trust proxy', 1);
app.use(session({ secret: 'x', resave: false, saveUninitialized: false, cookie: { sameSite: 'lax', secure: 'auto' } }));
const auth = oidc({
  issuer: 'https://idp.example.com',
  clientId: 'app',
  clientSecret: 'secret',
  baseUrl: 'https://app.example.com',
  onLogin: ({ claims, userinfo }) => {
    const email: string | undefined = userinfo?.email ?? claims.email;
    return { sub: claims.sub, iss: claims.iss, tenant: email?.split('@')[1] ?? 'none', roles: ['user'] };
  },
});
app.use(auth);

app.get('/', (req, res) => {
  // Always present after app.use(auth): no optional chaining needed (TS18048 before issue 13).
  const loggedIn: boolean = req.oidc.isAuthenticated();
  // OIDC Core 5.1 standard claims, with their JSON types.
  const email: string | undefined = req.user?.email;
  const verified: boolean | undefined = req.user?.email_verified;
  const updatedAt: number | undefined = req.user?.updated_at;
  const country: string | undefined = req.user?.address?.country;
  const name: string | undefined = req.user?.preferred_username ?? req.user?.name;
  // The app's own claims, from the augmentation in claims.d.ts.
  const roles: string[] | undefined = req.user?.roles;
  const tenant: string | undefined = req.user?.tenant;
  // @ts-expect-error email_verified is a boolean, not a string
  const wrong: string | undefined = req.user?.email_verified;
  res.json({ loggedIn, email, verified, updatedAt, country, name, roles, tenant, wrong });
});

app.get('/claims', auth.requireAuth(), (req, res) => {
  const claims: IdTokenClaims | undefined = req.oidc.idTokenClaims;
  const exp: number | undefined = claims?.exp;
  const user: OidcUser | undefined = req.user;
  const standard: StandardClaims | undefined = req.user;
  res.json({ exp, sub: user?.sub, locale: standard?.locale });
});

app.get('/signup', (_req, res, next) => {
  res.oidc.login({ returnTo: '/welcome', authorizationParams: { prompt: 'create' } }).catch(next);
});
app.post('/logout-everywhere', (_req, res, next) => {
  res.oidc.logout({ idpLogout: true }).catch(next);
});
app.get('/admin', requireRoles('admin'), async (req, res) => {
  res.json({ token: await req.oidc.getAccessToken({ minTtl: 30 }) });
});
app.use((err: unknown, _req: express.Request, res: express.Response, next: express.NextFunction) => {
  if (err instanceof OidcError && err.code === 'ERR_OIDC_NO_SESSION_COOKIE') return res.status(400).send('Cookies are blocked');
  if (err instanceof OidcError && err.code === 'ERR_OIDC_NOT_MOUNTED') return res.status(500).send('Setup error');
  next(err);
});

oidc({
  issuer: 'https://idp.example.com',
  clientId: 'app',
  baseUrl: 'https://app.example.com',
  // @ts-expect-error onLogin must return the declared user: "tenant" is required by claims.d.ts
  onLogin: ({ claims }) => ({ sub: claims.sub, iss: claims.iss }),
});
oidc({
  issuer: 'https://idp.example.com',
  clientId: 'app',
  baseUrl: 'https://app.example.com',
  // @ts-expect-error roles is declared as string[]
  onLogin: ({ claims }) => ({ sub: claims.sub, iss: claims.iss, tenant: 't', roles: 'admin' }),
});
// Returning nothing keeps the claims; false refuses the login.
oidc({ issuer: 'https://idp.example.com', clientId: 'app', baseUrl: 'https://app.example.com', onLogin: () => undefined });
oidc({ issuer: 'https://idp.example.com', clientId: 'app', baseUrl: 'https://app.example.com', onLogin: async () => false as const });
