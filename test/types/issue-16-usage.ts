// Compile-only: `npm run typecheck` is the assertion. Issue 16's APIs, written as a user would (Express and Koa).
import express from 'express';
import type { JWK } from 'jose';
import Koa from 'koa';
import { oidc } from '../../lib/express/index.js';
import type { BoundAccessToken, LogoutEverywhereResult, SessionInfo } from '../../lib/express/index.js';
import { oidc as koaOidc } from '../../lib/koa/index.js';
import type { OidcKoaState } from '../../lib/koa/index.js';

declare const privateJwk: JWK;
declare const keyPair: CryptoKeyPair;

const auth = oidc({
  issuer: 'https://idp.example.com',
  clientId: 'app',
  clientSecret: 'secret',
  baseUrl: 'https://app.example.com',
  dpop: true,
  resources: ['https://api.example.com'],
  maxResourceTokens: 5,
  requestObject: { key: privateJwk, alg: 'ES256' },
});
oidc({ issuer: 'https://idp.example.com', clientId: 'app', baseUrl: 'https://app.example.com', dpop: keyPair });

const app = express();
app.use(auth);
app.get('/orders', auth.requireAuth(), async (req, res) => {
  const token: string = await req.oidc!.getAccessToken({ resource: 'https://api.example.com', scope: 'orders:read' });
  const bound: BoundAccessToken = await req.oidc!.getBoundAccessToken({ resource: 'https://api.example.com' });
  const headers: Record<string, string> = await bound.headers('GET', 'https://api.example.com/orders');
  const answer: Response = await bound.fetch('https://api.example.com/orders');
  const mine: SessionInfo[] = await req.oidc!.listSessions();
  res.json({ token, headers, status: answer.status, mine });
});
app.post('/logout-everywhere', async (req, res) => {
  const result: LogoutEverywhereResult = await req.oidc!.logoutEverywhere({ idpLogout: true });
  res.redirect(303, result.idpLogoutUrl ?? '/');
});
void (async () => {
  const all: SessionInfo[] = await auth.sessions.list({ sub: 'alice', iss: 'https://idp.example.com' });
  const ended: number = await auth.sessions.destroy({ sub: 'alice', iss: 'https://idp.example.com', id: all[0]?.id });
  void ended;
})();

const koa = new Koa<OidcKoaState>();
const koaAuth = koaOidc({ issuer: 'https://idp.example.com', clientId: 'app', baseUrl: 'https://app.example.com', dpop: true });
koa.use(koaAuth);
koa.use(async (ctx) => {
  const result = await ctx.state.oidc?.logoutEverywhere();
  ctx.body = { destroyed: result?.destroyed, sessions: await koaAuth.sessions.list({ sub: 'alice', iss: 'x' }) };
});
