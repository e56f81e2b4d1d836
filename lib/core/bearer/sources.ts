import * as client from 'openid-client';
import { isLoopbackHost } from '../config.js';
import type { OidcEngine } from '../engine.js';
import { MemoryLock } from '../lock.js';
import type { RefreshLock } from '../lock.js';
import { toIdpError } from '../upstream-error.js';
import { invalidFor, numberInRange, resolveBearerOptions } from './options.js';
import type { BearerGuardOptions, BearerOptions } from './options.js';
import { BearerVerifier } from './verifier.js';
import type { IssuerEndpoints } from './verifier.js';

/** Client id used for discovery when the resource server has no credentials of its own (never sent anywhere). */
const ANONYMOUS_RESOURCE_SERVER = 'oidc-session-resource-server';

function checkLock(invalid: ReturnType<typeof invalidFor>, lock: unknown): RefreshLock | undefined {
  if (lock === undefined) return undefined;
  const candidate = lock as Partial<RefreshLock>;
  if (typeof candidate.acquire !== 'function' || typeof candidate.release !== 'function') throw invalid('"lock" must have acquire() and release()');
  return lock as RefreshLock;
}

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
  const allowInsecure = options.allowInsecureRequests ?? false;
  if (typeof allowInsecure !== 'boolean') throw invalid('"allowInsecureRequests" must be true or false');
  const allowHttp = allowInsecure || isLoopbackHost(issuerUrl.hostname);
  if (issuerUrl.protocol !== 'https:' && !(issuerUrl.protocol === 'http:' && allowHttp)) {
    throw invalid('"issuer" must use https (http is allowed for 127.0.0.1, localhost and ::1, or with "allowInsecureRequests: true")');
  }
  const timeoutMs = numberInRange(invalid, options.httpTimeout, 'httpTimeout', 5000, 100, 120_000);
  if (options.customFetch !== undefined && typeof options.customFetch !== 'function') throw invalid('"customFetch" must be a function');
  if (options.clock !== undefined && typeof options.clock !== 'function') throw invalid('"clock" must be a function returning milliseconds');
  const clock = options.clock ?? Date.now;
  const lock = checkLock(invalid, options.lock) ?? new MemoryLock(clock);
  const customFetch = options.customFetch;

  const discover = async (): Promise<IssuerEndpoints> => {
    let config: client.Configuration;
    try {
      config = await client.discovery(issuerUrl, settings.introspection?.clientId ?? ANONYMOUS_RESOURCE_SERVER, undefined, undefined, {
        timeout: timeoutMs / 1000,
        execute: allowHttp ? [client.allowInsecureRequests] : [],
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
