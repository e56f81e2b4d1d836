// TEMPORARY: delete this file when branch `redis` (issue 5) is merged. It declares the names
// example-app/redis.ts uses, exactly as issue 5 specifies them, so this branch typechecks before that
// code exists. (An ambient module wins over the real one, so it must not outlive the merge.)
declare module 'oidc-session/redis' {
  import type { RefreshLock, SessionIndex } from 'oidc-session/express';
  export function createRedisSessionIndex(client: unknown, options?: { prefix?: string }): SessionIndex;
  export function createRedisLock(client: unknown, options?: { prefix?: string }): RefreshLock;
}
