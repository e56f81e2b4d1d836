import type { JWK } from 'jose';
import type { DpopKeys } from './dpop-keys.js';

/** An access token and what an API call with it needs: the right scheme and, for DPoP, a fresh proof. */
export interface BoundAccessToken {
  accessToken: string;
  /** `DPoP` when the IdP bound the token to the key (RFC 9449), else `Bearer`. */
  tokenType: 'DPoP' | 'Bearer';
  /** Headers for one request: `Authorization` and, with DPoP, a `DPoP` proof for this method and URL. */
  headers(method: string, url: string | URL, nonce?: string): Promise<Record<string, string>>;
  /**
   * fetch() with those headers added. When the API answers 401 `use_dpop_nonce` with a `DPoP-Nonce`
   * (RFC 9449 §9), the request is sent once more with the nonce; a body must then be re-sendable
   * (string, URLSearchParams, Blob, ArrayBuffer), not a stream.
   */
  fetch(url: string | URL, init?: RequestInit): Promise<Response>;
}

function needsNonce(response: Response): string | undefined {
  if (response.status !== 401) return undefined;
  const challenge = response.headers.get('www-authenticate') ?? '';
  const nonce = response.headers.get('dpop-nonce');
  return /^\s*DPoP\b/i.test(challenge) && /error="?use_dpop_nonce"?/.test(challenge) && nonce ? nonce : undefined;
}

export function boundAccessToken(dpop: DpopKeys, key: JWK | undefined, accessToken: string, tokenType: string | undefined): BoundAccessToken {
  const bound = tokenType?.toLowerCase() === 'dpop';
  const headers = async (method: string, url: string | URL, nonce?: string): Promise<Record<string, string>> =>
    bound
      ? { authorization: `DPoP ${accessToken}`, dpop: await dpop.proof(key, method, new URL(url), accessToken, nonce) }
      : { authorization: `Bearer ${accessToken}` };
  const send = async (url: string | URL, init: RequestInit, nonce?: string): Promise<Response> => {
    const merged = new Headers(init.headers);
    for (const [name, value] of Object.entries(await headers(init.method ?? 'GET', url, nonce))) merged.set(name, value);
    return fetch(url, { ...init, headers: merged });
  };
  return {
    accessToken,
    tokenType: bound ? 'DPoP' : 'Bearer',
    headers,
    async fetch(url, init = {}) {
      const response = await send(url, init);
      const nonce = bound ? needsNonce(response) : undefined;
      if (!nonce) return response;
      await response.body?.cancel();
      return send(url, init, nonce);
    },
  };
}
