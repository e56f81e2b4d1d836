// Compile-only: `npm run typecheck` is the assertion. docs/protecting-an-api.md, written as a user would.
import express from 'express';
import Koa from 'koa';
import { oidc, requireBearer, requireScopes } from '../../lib/express/index.js';
import type { AuthInfo, BearerOptions } from '../../lib/express/index.js';
import { checkScopes, requireBearer as koaRequireBearer } from '../../lib/koa/require-bearer.js';
import type { BearerKoaState } from '../../lib/koa/require-bearer.js';

const issuer = 'https://idp.example.com';
const options: BearerOptions = {
  issuer,
  audience: ['https://api.example.com'],
  scopes: ['read:things'],
  introspection: { clientId: 'api', clientSecret: 'secret', cacheTtl: 30 },
  dpop: { required: false, algorithms: ['ES256'] },
  strict: true,
};

const app = express();
app.use('/api', requireBearer(options));
app.get('/api/things', (req, res) => {
  const auth: AuthInfo | undefined = req.auth;
  const scheme: 'Bearer' | 'DPoP' | undefined = auth?.scheme;
  res.json({ sub: auth?.sub, clientId: auth?.clientId, scopes: auth?.scopes, scheme, aud: auth?.claims.aud });
});
app.post('/api/things', requireScopes('write:things'), (_req, res) => res.end());

const auth = oidc({ issuer, clientId: 'app', clientSecret: 'secret', baseUrl: 'https://app.example.com' });
app.get('/me', auth.requireAuth({ bearer: { audience: 'https://api.example.com', dpop: {} } }), (req, res) => res.json(req.auth ?? req.user));
app.get('/own', auth.requireAuth({ bearer: true }), (_req, res) => res.end());

const koa = new Koa<BearerKoaState>();
koa.use(koaRequireBearer({ issuer, audience: 'https://api.example.com' }));
koa.use((ctx) => {
  checkScopes(ctx.state.auth!, ['write:things']);
  ctx.body = { sub: ctx.state.auth?.sub };
});
