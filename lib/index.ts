export * from './core/public.js';
export type { LoginTransaction, SessionPort } from './core/session/session-data.js';
export { safeReturnTo } from './core/http/return-to.js';
