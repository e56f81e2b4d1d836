// TEMPORARY: delete this file when branch `redis` (issue 5) is merged; see pending-redis.d.ts.
import type { Store } from 'express-session';

declare module 'oidc-session/express' {
  export function resilientStore(store: Store, options?: { timeoutMs?: number }): Store;
}
