export { createRedisSessionIndex } from './session-index.js';
export { createRedisLock } from './lock.js';
export type { RedisHelperOptions, RedisScriptClient } from './client.js';
export type { SessionIndex, SessionOwner } from '../core/session-index.js';
export type { RefreshLock } from '../core/lock.js';
export { OidcError, isOidcError } from '../core/errors.js';
