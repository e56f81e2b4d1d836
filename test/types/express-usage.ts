// Compile-only: `npm run typecheck` is the assertion. The README's usage, written as a user would.
import express from 'express';
import session from 'express-session';
import { oidc, requireRoles } from '../../lib/express/index.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface User {
      roles?: string[];
    }
  }
}

const app = express();
app.use(session({ secret: 'x', resave: false, saveUninitialized: false }));
const auth = oidc({ issuer: 'https://idp.example.com', clientId: 'app', clientSecret: 'secret', baseUrl: 'https://app.example.com' });
app.use(auth);
app.get('/profile', auth.requireAuth(), (req, res) => {
  const roles: string[] | undefined = req.user?.roles;
  const sub: string | undefined = req.user?.sub;
  const expiresAt: number | undefined = req.oidc.expiresAt;
  const stored = req.session.oidc?.auth?.accessToken;
  res.json({ roles, sub, expiresAt, hasToken: stored !== undefined });
});
app.get('/admin', requireRoles('admin'), async (req, res) => {
  res.json({ token: await req.oidc.getAccessToken({ minTtl: 30 }) });
});
