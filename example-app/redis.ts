/**
 * REDIS_URL: sessions, the back-channel logout index and the refresh lock live in Redis, so several
 * instances of the app behind a load balancer share them. Loaded only when REDIS_URL is set.
 */
import { RedisStore } from 'connect-redis';
import { createClient } from 'redis';
import { resilientStore } from 'oidc-session/express';
import { createRedisLock, createRedisSessionIndex } from 'oidc-session/redis';
import type { Logger } from 'oidc-session/express';
import type { SharedState } from './app.js';

export async function redisState(url: string, logger: Logger, prefix = 'oidc-example:'): Promise<SharedState> {
  const client = createClient({
    url,
    // Fail fast while Redis is down instead of queueing commands until it is back (requests would hang).
    disableOfflineQueue: true,
    socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 2000) },
  });
  // Without a listener an 'error' event would crash the process; reconnection is automatic.
  client.on('error', (err: Error) => logger.warn(`redis: ${err.message}`));
  await client.connect();
  const shown = new URL(url);
  if (shown.password) shown.password = '***';
  return {
    // A store call that fails or takes longer than timeoutMs becomes a 503 ERR_OIDC_STORE_UNAVAILABLE.
    store: resilientStore(new RedisStore({ client, prefix: `${prefix}sess:` }), { timeoutMs: 2000 }),
    sessionIndex: createRedisSessionIndex(client, { prefix }),
    lock: createRedisLock(client, { prefix }),
    description: `Redis at ${shown.href} (key prefix ${prefix})`,
    close: () => client.close(),
  };
}
