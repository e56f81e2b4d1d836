import type { webcrypto } from 'node:crypto';

/*
 * Web Crypto key types taken from node:crypto rather than the DOM lib, so that our declaration files
 * compile in a consumer's build without "DOM" in its lib (@types/node 20 declares no global CryptoKey).
 */
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** The class is a global at run time (Node 17+), whatever the types say. */
export function isCryptoKey(value: unknown): value is CryptoKey {
  const ctor = (globalThis as { CryptoKey?: abstract new () => unknown }).CryptoKey;
  return ctor !== undefined && value instanceof ctor;
}
