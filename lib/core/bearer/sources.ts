import * as client from 'openid-client';
import { injectedFetchAndClock, invalidFor, lockOption, numberInRange, optionalBoolean, requireHttps } from '../config/validators.js';
import type { OidcEngine } from '../engine.js';
import { MemoryLock } from '../stores/lock.js';
import { allowsHttp } from '../config/transport.js';
import { toIdpError } from '../idp/upstream-error.js';
import { resolveBearerOptions } from './options.js';
import type { BearerGuardOptions, BearerOptions } from './options.js';
import { BearerVerifier } from './verifier.js';
import type { IssuerEndpoints } from './verifier.js';
import { httpFetch } from '../idp/http-fetch.js';

/** Client id used for discovery when the resource server has no credentials of its own (never sent anywhere). */
const ANONYMOUS_RESOURCE_SERVER = 'oidc-session-resource-server';

/**
 * A verifier for `requireBearer()`: options validated now, discovery on the first request (single
 * flight, a failure is not cached so a returning IdP needs no restart).
 */
export function createBearerVerifier(options: BearerOptions, label = 'requireBearer()'): BearerVerifier {
  const invalid = invalidFor(label);
  const settings = resolveBearerOptions(options, invalid, {}, true);
  let issuerUrl: URL;
  try {
    issuerUrl = new URL(options.issuer);
  } catch {
    throw invalid('"issuer" must be an absolute http(s) URL');
  }
  if (issuerUrl.pathname.includes('/.well-known/')) throw invalid('"issuer" must be the issuer URL, not its .well-known discovery document');
  const allowInsecure = optionalBoolean(invalid, options.allowInsecureRequests, 'allowInsecureRequests');
  requireHttps(invalid, issuerUrl, 'issuer', allowInsecure);
  const timeoutMs = numberInRange(invalid, options.httpTimeout, 'httpTimeout', 5000, 100, 120_000);
  injectedFetchAndClock(invalid, options);
  const clock = options.clock ?? Date.now;
  const lock = lockOption(invalid, options.lock) ?? new MemoryLock(clock);
  const customFetch = options.customFetch ?? httpFetch();

  const discover = async (): Promise<IssuerEndpoints> => {
    let config: client.Configuration;
    try {
      config = await client.discovery(issuerUrl, settings.introspection?.clientId ?? ANONYMOUS_RESOURCE_SERVER, undefined, undefined, {
        timeout: timeoutMs / 1000,
        execute: allowsHttp(issuerUrl, allowInsecure) ? [client.allowInsecureRequests] : [],
        ...(customFetch ? { [client.customFetch]: customFetch as unknown as client.CustomFetch } : {}),
      });
    } catch (err) {
      throw toIdpError(err, 'discovery');
    }
    const server = config.serverMetadata();
    return { issuer: server.issuer, server, allowInsecure, timeoutMs, customFetch };
  };
  return new BearerVerifier(settings, discover, clock, lock);
}

/**
 * A verifier for `requireAuth({ bearer })`: the issuer, its discovery, fetch, clock, lock and clock
 * tolerance are the login side's (the first provider's); `true` means audience = that client's id.
 */
export function engineBearerVerifier(engine: OidcEngine, option: BearerGuardOptions | true): BearerVerifier {
  const provider = engine.providerClient();
  const { cfg } = engine;
  const settings = resolveBearerOptions(option === true ? {} : option, invalidFor('requireAuth({ bearer })'), {
    clientId: provider.settings.clientId,
    clockToleranceSec: cfg.clockToleranceSec,
    baseUrl: cfg.baseUrl,
  });
  const endpoints = async (): Promise<IssuerEndpoints> => {
    const discovered = await provider.get();
    const server = discovered.config.serverMetadata();
    return {
      issuer: discovered.issuer,
      server,
      allowInsecure: provider.settings.allowInsecureRequests,
      timeoutMs: discovered.config.timeout !== undefined ? discovered.config.timeout * 1000 : cfg.httpTimeoutMs,
      customFetch: (provider.settings.config?.[client.customFetch] as typeof fetch | undefined) ?? cfg.customFetch,
    };
  };
  return new BearerVerifier(settings, endpoints, cfg.clock, cfg.lock);
}
