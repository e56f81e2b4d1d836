export { createRedisSessionIndex } from './session-index.js';
export { createRedisLock } from './lock.js';
export type { RedisHelperOptions, RedisScriptClient } from './client.js';
export type { SessionIndex, SessionOwner } from '../core/stores/session-index.js';
export type { RefreshLock } from '../core/stores/lock.js';
export { OidcError, isOidcError } from '../core/errors.js';
