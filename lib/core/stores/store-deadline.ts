import { OidcError } from '../errors.js';

export const DEFAULT_STORE_TIMEOUT_MS = 2000;

/** The 503 every store wrapper answers with when its backend fails or is too slow. */
export function storeUnavailable(message: string, cause: unknown): OidcError {
  if (cause instanceof OidcError) return cause;
  return new OidcError('ERR_OIDC_STORE_UNAVAILABLE', message, { cause, headers: { 'Retry-After': '1' } });
}

/**
 * The backend's answer, or ERR_OIDC_STORE_UNAVAILABLE when `call` throws, rejects, or `timeoutMs` passes
 * first. A late answer is dropped (a late write may still land: hence `disableOfflineQueue` for node-redis).
 */
export async function withDeadline<T>(message: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(call), deadline]);
  } catch (err) {
    throw storeUnavailable(message, err);
  } finally {
    clearTimeout(timer);
  }
}
