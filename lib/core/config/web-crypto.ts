import type { webcrypto } from 'node:crypto';

/**
 * Whether `value` is a Web Crypto key. The class is a global at run time (Node 17+); its type comes from
 * node:crypto, so that our declaration files compile in a consumer's build without the DOM lib
 * (@types/node 20 declares no global CryptoKey).
 */
export function isCryptoKey(value: unknown): value is webcrypto.CryptoKey {
  const ctor = (globalThis as { CryptoKey?: abstract new () => unknown }).CryptoKey;
  return ctor !== undefined && value instanceof ctor;
}
