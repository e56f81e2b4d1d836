import express5 from 'express';
import express4 from 'express4';
import type { Express, RequestHandler } from 'express';
import session from 'express-session';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { oidc } from '../../lib/express/index.js';
import type { OidcMiddleware } from '../../lib/express/index.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { EXPRESS_MAJORS, localPath, RP_BASE_URL } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

/** What a route sees of the login: req.user, req.oidc and res.oidc. */
const view: RequestHandler = (req, res) => {
  res.json({ user: req.user?.sub ?? null, context: req.oidc?.isAuthenticated() ?? null, actions: typeof res.oidc?.login });
};

async function logIn(app: Express) {
  const agent = request.agent(app);
  const start = await agent.get('/login').expect(302);
  await agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
  return agent;
}

describe.each(EXPRESS_MAJORS)('req.user and res.oidc beyond the app that mounts oidc() (Express %i)', (major) => {
  const express = (major === 4 ? express4 : express5) as unknown as typeof express5;
  const newAuth = (): OidcMiddleware => oidc({ issuer: op.issuer, clientId: 'rp', clientSecret: 'rp-secret', baseUrl: RP_BASE_URL });
  const withSession = (app: Express): Express => {
    app.use(session({ secret: 'test-secret', resave: false, saveUninitialized: false, store: new session.MemoryStore(), name: 'sid' }));
    return app;
  };

  /** oidc() on the top app; a Router, a mounted sub-app and a sub-app inside it. */
  function nestedApp() {
    const app = withSession(express());
    const auth = newAuth();
    app.use(auth);
    const router = express.Router();
    router.get('/me', view);
    app.use('/router', router);
    const sub = express();
    sub.get('/me', view);
    sub.get('/guarded', auth.requireAuth(), view);
    sub.get('/sign-in', (_req, res, next) => {
      res.oidc?.login({ returnTo: '/sub/me' }).catch(next);
    });
    const inner = express();
    inner.get('/me', view);
    sub.use('/inner', inner);
    app.use('/sub', sub);
    return app;
  }

  it('gives the login to a Router, a mounted sub-app and its own sub-app, guarded or not', async () => {
    const agent = await logIn(nestedApp());
    const expected = { user: 'user-1', context: true, actions: 'function' };
    expect((await agent.get('/router/me').expect(200)).body).toEqual(expected);
    expect((await agent.get('/sub/me').expect(200)).body).toEqual(expected);
    expect((await agent.get('/sub/inner/me').expect(200)).body).toEqual(expected);
    const guarded = await agent.get('/sub/guarded').expect(200);
    expect(guarded.body).toEqual(expected);
    expect(guarded.headers['cache-control']).toBe('no-store');
  });

  it('is logged out in sub-apps before login, and res.oidc.login() works there', async () => {
    const app = nestedApp();
    expect((await request(app).get('/sub/inner/me').expect(200)).body).toEqual({ user: null, context: false, actions: 'function' });
    await request(app).get('/sub/guarded').set('Accept', 'application/json').expect(401);
    const start = await request(app).get('/sub/sign-in').expect(302);
    expect(new URL(start.headers.location as string).origin).toBe(new URL(op.issuer).origin);
  });

  it('reaches the parent app when oidc() is mounted inside a sub-app', async () => {
    const app = withSession(express());
    const authApp = express();
    authApp.use(newAuth());
    app.use(authApp);
    app.get('/after', view);
    const agent = await logIn(app);
    expect((await agent.get('/after').expect(200)).body).toEqual({ user: 'user-1', context: true, actions: 'function' });
  });

  it('guards a sub-app that is called as a plain handler (not mounted by Express)', async () => {
    const app = withSession(express());
    const auth = newAuth();
    app.use(auth);
    const plain = express();
    plain.get('/me', auth.requireAuth(), view);
    app.use('/plain', (req, res, next) => {
      (plain as unknown as { handle: RequestHandler }).handle(req, res, next);
    });
    const agent = await logIn(app);
    expect((await agent.get('/plain/me').expect(200)).body).toEqual({ user: 'user-1', context: true, actions: 'function' });
  });

  it('lets another middleware assign req.user, and leaves apps without oidc() alone', async () => {
    const app = withSession(express());
    app.use(newAuth());
    const sub = express();
    sub.use((req, _res, next) => {
      (req as unknown as { user: unknown }).user = { sub: 'from-passport' };
      next();
    });
    sub.get('/me', view);
    app.use('/sub', sub);
    app.get('/me', view);
    const agent = await logIn(app);
    expect((await agent.get('/sub/me').expect(200)).body.user).toBe('from-passport');
    expect((await agent.get('/me').expect(200)).body.user).toBe('user-1');

    const other = express();
    other.get('/', (req, res) => {
      let actions: string;
      try {
        actions = typeof res.oidc;
      } catch (err) {
        actions = (err as { code?: string }).code ?? 'thrown';
      }
      res.json({ user: 'user' in req, actions });
    });
    // No req.user there; res.oidc is Node's process-wide accessor, which says oidc() did not run.
    expect((await request(other).get('/').expect(200)).body).toEqual({ user: false, actions: 'ERR_OIDC_NOT_MOUNTED' });
  });
});
