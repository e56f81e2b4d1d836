/**
 * The servers under test. `ours`: express-session (MemoryStore or connect-redis) + oidc(), with a bare route
 * mounted before the session, a session-only route mounted before oidc() (the floor), the same route after
 * oidc() (what mounting costs) and the guarded route. `eoc`: express-openid-connect with its own cookie
 * session and a requiresAuth() route.
 */
import { createRequire } from 'node:module';
import type { RequestListener } from 'node:http';
import { RedisStore } from 'connect-redis';
import express from 'express';
import type { RequestHandler } from 'express';
import session from 'express-session';
import { createClient } from 'redis';
import { MemorySessionIndex } from '../lib/core/stores/session-index.js';
import { createRedisSessionIndex } from '../lib/redis/index.js';
import { oidc } from '../lib/express/index.js';
import type { Command, OwnerEntry, ChildSpec } from './protocol.js';

export interface BuiltApp {
  handler: RequestListener;
  handle(command: Command): Promise<unknown>;
  close(): Promise<void>;
}

type Configure = Extract<Command, { cmd: 'configure' }>;

/** express-openid-connect through require(): its global `req.oidc` typing clashes with ours. */
interface Eoc {
  auth(config: Record<string, unknown>): RequestHandler;
  requiresAuth(): RequestHandler;
}

const SESSION_TTL_SEC = 3600;

async function redisClient(url: string) {
  const client = createClient({ url, socket: { connectTimeout: 2000, reconnectStrategy: false } });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

export async function buildOursApp(spec: ChildSpec, config: Configure): Promise<BuiltApp> {
  const client = spec.store === 'redis' ? await redisClient(spec.redisUrl) : undefined;
  const sessionPrefix = `${spec.redisPrefix}sess:`;
  const store = client ? new RedisStore({ client, prefix: sessionPrefix, ttl: SESSION_TTL_SEC }) : new session.MemoryStore();
  let clockOffset = 0;
  const clock = () => Date.now() + clockOffset;
  // The Redis app indexes sessions in Redis too, so the back-channel logout rows measure the Redis lookup.
  const sessionIndex = client ? createRedisSessionIndex(client, { prefix: spec.redisPrefix }) : new MemorySessionIndex(clock);
  const logoutTimings: Array<{ ms: number; status: number }> = [];

  const auth = oidc({
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    baseUrl: config.baseUrl,
    clock,
    sessionIndex,
    backchannelLogout: true,
    revokeTokens: false,
  });
  const app = express();
  app.set('etag', false);
  app.get('/bare', (_req, res) => {
    res.json({ sub: 'anonymous' });
  });
  app.use('/backchannel-logout', (_req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => logoutTimings.push({ ms: Number(process.hrtime.bigint() - start) / 1e6, status: res.statusCode }));
    next();
  });
  // A lane process has only its own route: each measured request then walks the same layers but ours
  // (otherwise the guarded request would also walk past /session-only and /mounted, which the floor's does not).
  const serves = (route: string) => spec.route === undefined || spec.route === route;
  app.use(session({ secret: spec.secret, resave: false, saveUninitialized: false, store, name: 'sid' }));
  if (serves('session-only')) {
    app.get('/session-only', (req, res) => {
      res.json({ sub: req.session.oidc?.auth?.sub ?? null });
    });
  }
  app.use(auth);
  if (serves('mounted')) {
    app.get('/mounted', (req, res) => {
      res.json({ sub: req.session.oidc?.auth?.sub ?? null });
    });
  }
  if (serves('guarded')) {
    app.get('/guarded', auth.requireAuth(), (req, res) => {
      res.json({ sub: req.user?.sub });
    });
  }

  const stored = async (id: string): Promise<string | null> => {
    if (client) return client.get(sessionPrefix + id);
    const sessions = (store as unknown as { sessions: Record<string, string | undefined> }).sessions;
    return sessions[id] ?? null;
  };

  return {
    handler: app as unknown as RequestListener,
    async handle(command) {
      switch (command.cmd) {
        case 'clockOffset':
          clockOffset = command.ms;
          return clockOffset;
        case 'storedSession':
          return stored(command.id);
        case 'indexSessions':
          for (const entry of command.entries as OwnerEntry[]) {
            await sessionIndex.add({ iss: entry.iss, sub: entry.sub, sid: entry.sid }, entry.id, SESSION_TTL_SEC);
          }
          return command.entries.length;
        case 'logoutTimings':
          return logoutTimings.splice(0);
        default:
          throw new Error(`unsupported command ${command.cmd} for ${spec.name}`);
      }
    },
    async close() {
      await client?.close().catch(() => undefined);
    },
  };
}

export async function buildEocApp(spec: ChildSpec, config: Configure): Promise<BuiltApp> {
  const eoc = createRequire(import.meta.url)('express-openid-connect') as Eoc;
  const app = express();
  app.set('etag', false);
  app.get('/bare', (_req, res) => {
    res.json({ sub: 'anonymous' });
  });
  app.use(
    eoc.auth({
      issuerBaseURL: config.issuer,
      baseURL: config.baseUrl,
      clientID: config.clientId,
      clientSecret: config.clientSecret,
      secret: spec.secret,
      authRequired: false,
      idpLogout: false,
      enableTelemetry: false,
      authorizationParams: { response_type: 'code' },
    }),
  );
  app.get('/guarded', eoc.requiresAuth(), (req, res) => {
    const context = (req as unknown as { oidc: { user?: { sub?: string } } }).oidc;
    res.json({ sub: context.user?.sub });
  });
  return {
    handler: app as unknown as RequestListener,
    async handle(command) {
      throw new Error(`unsupported command ${command.cmd} for ${spec.name}`);
    },
    async close() {},
  };
}
