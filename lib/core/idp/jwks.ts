import { createRemoteJWKSet, errors, customFetch as joseCustomFetch } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type { Clock } from '../config/options.js';

/** One IdP's keys, looked up with a refetch policy that depends on who can send the token. */
export interface ProviderKeys {
  /**
   * For ID tokens, which reach us from the token endpoint over an authenticated channel: an unknown `kid`
   * refetches the JWKS at once (single flight), so a login right after a key rotation works. Only when a
   * refetch still lacks the kid (an IdP signing with a key it does not publish) do further refetches wait
   * for the cool-down.
   */
  readonly idTokens: JWTVerifyGetKey;
  /** For what anonymous senders can post (back-channel logout tokens): at most one refetch per cool-down. */
  readonly anonymous: JWTVerifyGetKey;
}

export interface ProviderKeysOptions {
  timeoutMs: number;
  cooldownMs: number;
  /** How long fetched keys are used before the JWKS is fetched again anyway. */
  cacheMaxAgeMs: number;
  fetch: typeof fetch;
  clock: Clock;
}

export function providerKeys(jwksUrl: URL, options: ProviderKeysOptions): ProviderKeys {
  const { clock, cooldownMs } = options;
  let lastFetch = Number.NEGATIVE_INFINITY;
  let fetches = 0;
  let idTokenMissUntil = Number.NEGATIVE_INFINITY;
  const counted: typeof fetch = (input, init) => {
    lastFetch = clock();
    fetches++;
    return options.fetch(input, init);
  };
  // jose never refetches on its own for an unknown kid here (infinite cool-down): the policies below decide.
  const remote = createRemoteJWKSet(jwksUrl, {
    timeoutDuration: options.timeoutMs,
    cooldownDuration: Number.POSITIVE_INFINITY,
    cacheMaxAge: options.cacheMaxAgeMs,
    [joseCustomFetch]: counted as never,
  });

  const lookup = (mayRefetch: () => boolean, onMiss: () => void): JWTVerifyGetKey => async (header, token) => {
    const before = fetches;
    try {
      return await remote(header, token);
    } catch (err) {
      if (!(err instanceof errors.JWKSNoMatchingKey)) throw err;
      // The set was (re)loaded during this very lookup (first use, or expired): it is as fresh as a refetch.
      if (fetches !== before) onMiss();
      if (fetches !== before || !mayRefetch()) throw err;
    }
    // jose shares one pending fetch between concurrent callers: a burst after a rotation costs one request.
    await remote.reload();
    try {
      return await remote(header, token);
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) onMiss();
      throw err;
    }
  };

  return {
    idTokens: lookup(() => clock() >= idTokenMissUntil, () => {
      idTokenMissUntil = clock() + cooldownMs;
    }),
    anonymous: lookup(() => clock() >= lastFetch + cooldownMs, () => undefined),
  };
}
