import type { RouteName } from './engine.js';

/**
 * The methods each of our routes answers; any other method falls through to the app (a 404 or the app's
 * own route). Back-channel logout takes every method so that the engine can answer 405 itself.
 */
export const ROUTE_METHODS: Readonly<Record<RouteName, ReadonlySet<string>>> = {
  login: new Set(['GET', 'HEAD']),
  callback: new Set(['GET', 'POST']),
  logout: new Set(['GET', 'POST']),
  backchannelLogout: new Set(['GET', 'POST', 'PUT', 'DELETE', 'PATCH']),
};
