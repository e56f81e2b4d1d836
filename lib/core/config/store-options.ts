import { DEFAULT_STORE_TIMEOUT_MS } from '../stores/store-deadline.js';
import { invalidFor, rejectUnknown } from './validators.js';

const RESILIENT_STORE_OPTIONS: ReadonlySet<string> = new Set(['timeoutMs']);

/** Validates a `timeoutMs` option once, at construction; `factory` names the function in the message. */
export function resolveStoreTimeout(factory: string, value: unknown): number {
  const timeoutMs = value ?? DEFAULT_STORE_TIMEOUT_MS;
  if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000) {
    throw invalidFor(`${factory}()`)('"timeoutMs" must be a number of milliseconds from 1 to 60000');
  }
  return timeoutMs;
}

/** Options of `resilientStore()` (Express and Koa): how long a store call may take before the request answers 503. */
export interface ResilientStoreOptions {
  /** Milliseconds a store call may take before it fails with ERR_OIDC_STORE_UNAVAILABLE. Default 2000. */
  timeoutMs?: number;
}

/** The options of either adapter's `resilientStore()`: an object with `timeoutMs` alone. */
export function resilientStoreTimeout(options: unknown): number {
  const invalid = invalidFor('resilientStore()');
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object');
  rejectUnknown(invalid, options as Record<string, unknown>, RESILIENT_STORE_OPTIONS);
  return resolveStoreTimeout('resilientStore', (options as { timeoutMs?: unknown }).timeoutMs);
}
