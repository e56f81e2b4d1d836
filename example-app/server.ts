/**
 * `npm start`: the example app on http://127.0.0.1:3000 (PORT) against an embedded dev IdP, or your IdP
 * and Redis when the environment says so. The only file that reads process.env.
 *
 *   OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET   your IdP (register BASE_URL/callback as redirect URI)
 *   OIDC_SCOPE, OIDC_ROLES_CLAIM                      optional: scope, where the roles are
 *   OIDC_CLIENT_AUTH_METHOD                           optional: client_secret_basic (default), client_secret_post...
 *   BASE_URL                                          the app's public URL (default http://127.0.0.1:PORT)
 *   REDIS_URL                                         sessions, logout index and refresh lock in Redis
 *   SESSION_SECRET                                    default: random for each run
 */
import './quiet-runtime-warning.js';
import { startExampleApp } from './app.js';
import type { RealIdp } from './app.js';

function fail(message: string): never {
  console.error(`example app: ${message}`);
  process.exit(1);
}

const env = process.env;
const port = Number(env.PORT ?? 3000);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`PORT must be a port number, got ${JSON.stringify(env.PORT)}`);

let idp: RealIdp | undefined;
if (env.OIDC_ISSUER) {
  if (!env.OIDC_CLIENT_ID) fail('OIDC_ISSUER is set, so OIDC_CLIENT_ID must be too');
  idp = {
    issuer: env.OIDC_ISSUER,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    scope: env.OIDC_SCOPE,
    rolesClaim: env.OIDC_ROLES_CLAIM,
    // oidc() checks the value and names clientAuthMethod when it is not one it knows.
    clientAuthMethod: env.OIDC_CLIENT_AUTH_METHOD as RealIdp['clientAuthMethod'],
  };
}

const log = (level: 'info' | 'warn' | 'error') => (message: string, fields?: Record<string, unknown>) =>
  console[level](`[${level}] ${message}`, fields ? JSON.stringify(fields) : '');

const app = await startExampleApp({
  port,
  baseUrl: env.BASE_URL,
  idp,
  redisUrl: env.REDIS_URL,
  sessionSecret: env.SESSION_SECRET,
  logger: { debug() {}, info: log('info'), warn: log('warn'), error: log('error') },
}).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));

console.log(app.summary.join('\n'));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
