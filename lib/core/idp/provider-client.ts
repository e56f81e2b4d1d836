import * as client from 'openid-client';
import { importJWK, importPKCS8 } from 'jose';
import type { JWK, JWTVerifyGetKey } from 'jose';
import type { ResolvedConfig, ResolvedProvider } from '../config/resolved-config.js';
import { discoveryError } from './discovery-error.js';
import { OidcError } from '../errors.js';
import { providerKeys } from './jwks.js';
import { singleFlight } from './single-flight.js';
import { allowedScheme, allowsHttp } from '../config/transport.js';
import { limitedFetch } from './limited-fetch.js';
import { assertRequestObjectSupported, requestObjectKey } from '../config/request-object.js';
import { toIdpError } from './upstream-error.js';
import type { webcrypto } from 'node:crypto';

/** A discovered IdP: the openid-client Configuration plus our own JWKS for signature checks. */
export interface DiscoveredProvider {
  readonly settings: ResolvedProvider;
  readonly config: client.Configuration;
  readonly issuer: string;
  /** The IdP metadata, read once (openid-client copies it on every serverMetadata() call). */
  readonly metadata: Readonly<client.ServerMetadata>;
  /** Keys for ID tokens from the token endpoint: an unknown `kid` refetches at once (./jwks.ts). */
  readonly jwks: JWTVerifyGetKey;
  /** JAR: the imported key that signs authorization requests. */
  readonly requestObjectKey: { key: webcrypto.CryptoKey; kid?: string } | undefined;
  /** Keys for logout tokens, which anyone can post: unknown `kid`s refetch at most once per `jwksCooldown`. */
  readonly logoutTokenKeys: JWTVerifyGetKey;
}

async function privateKeyOf(settings: ResolvedProvider): Promise<webcrypto.CryptoKey> {
  const key = settings.privateKey;
  try {
    if (typeof key === 'string') return (await importPKCS8(key, settings.idTokenSigningAlg)) as webcrypto.CryptoKey;
    const jwk = key as JWK;
    return (await importJWK(jwk, jwk.alg ?? settings.idTokenSigningAlg)) as webcrypto.CryptoKey;
  } catch (err) {
    throw new OidcError('ERR_OIDC_INVALID_CONFIG', 'oidc(): "privateKey" could not be imported (a private JWK with "alg", or a PKCS#8 PEM)', { cause: err });
  }
}

async function clientAuth(settings: ResolvedProvider): Promise<client.ClientAuth> {
  switch (settings.clientAuthMethod) {
    case 'private_key_jwt':
      return client.PrivateKeyJwt(await privateKeyOf(settings));
    case 'client_secret_post':
      return client.ClientSecretPost(settings.clientSecret);
    case 'client_secret_basic':
      return client.ClientSecretBasic(settings.clientSecret);
    default:
      return client.None();
  }
}

const ENDPOINTS = [
  'authorization_endpoint', 'token_endpoint', 'userinfo_endpoint', 'jwks_uri', 'end_session_endpoint', 'revocation_endpoint',
  'introspection_endpoint', 'pushed_authorization_request_endpoint',
] as const;

/** Every endpoint of an https IdP must be https too (RFC 9700 §2.6); http is for loopback development. */
function assertSecureEndpoints(settings: ResolvedProvider, server: client.ServerMetadata): void {
  for (const name of ENDPOINTS) {
    const value = server[name];
    if (typeof value !== 'string') continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', `The IdP metadata "${name}" is not a URL`);
    }
    if (allowedScheme(url, settings.allowInsecureRequests)) continue;
    throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', `The IdP metadata "${name}" must use https`);
  }
}

/** The discovered IdP of a provider id (the first provider without one): lazy, single flight. */
export type DiscoverProvider = (id?: string) => Promise<DiscoveredProvider>;

/**
 * Lazy, single-flight discovery for one provider. The pending promise is shared by concurrent callers;
 * a failure is not cached, so the next request retries and a returning IdP needs no restart.
 */
export class ProviderClient {
  readonly settings: ResolvedProvider;
  private readonly cfg: ResolvedConfig;
  private readonly discovered: () => Promise<DiscoveredProvider> = singleFlight(() => this.discover());

  constructor(cfg: ResolvedConfig, settings: ResolvedProvider) {
    this.cfg = cfg;
    this.settings = settings;
  }

  get(): Promise<DiscoveredProvider> {
    return this.discovered();
  }

  private async discover(): Promise<DiscoveredProvider> {
    const { settings, cfg } = this;
    const metadata: Partial<client.ClientMetadata> = {
      id_token_signed_response_alg: settings.idTokenSigningAlg,
      [client.clockTolerance]: cfg.clockToleranceSec,
    };
    let config: client.Configuration;
    if (settings.config) {
      config = settings.config;
    } else {
      const issuerUrl = new URL(settings.issuer as string);
      const execute = allowsHttp(issuerUrl, settings.allowInsecureRequests) ? [client.allowInsecureRequests] : [];
      const auth = await clientAuth(settings);
      const fetchImpl = limitedFetch(cfg.customFetch);
      // What the discovery request got back, so a failure can say it (openid-client does not always keep it).
      let answer: Response | undefined;
      const recording = (async (...args: Parameters<typeof fetch>) => (answer = await fetchImpl(...args))) as typeof fetch;
      try {
        config = await client.discovery(issuerUrl, settings.clientId, metadata, auth, {
          timeout: cfg.httpTimeoutMs / 1000,
          execute,
          [client.customFetch]: recording as unknown as client.CustomFetch,
        });
      } catch (err) {
        throw discoveryError(err, issuerUrl, cfg.httpTimeoutMs, answer);
      }
      config.timeout = cfg.httpTimeoutMs / 1000;
    }
    const server = config.serverMetadata();
    if (!server.authorization_endpoint || !server.token_endpoint) {
      throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', 'The IdP metadata has no authorization_endpoint or token_endpoint');
    }
    if (!server.jwks_uri) throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', 'The IdP metadata has no jwks_uri');
    assertSecureEndpoints(settings, server);
    const jwksUrl = new URL(server.jwks_uri);
    const fetchImpl = limitedFetch((settings.config?.[client.customFetch] ?? cfg.customFetch) as typeof fetch);
    const keys = providerKeys(jwksUrl, {
      timeoutMs: cfg.httpTimeoutMs,
      cooldownMs: cfg.jwksCooldownSec * 1000,
      // A key the IdP removed stops verifying within 5 minutes (jose's default keeps it 10).
      cacheMaxAgeMs: 300_000,
      fetch: fetchImpl,
      clock: cfg.clock,
    });
    const ro = settings.requestObject;
    const label = (cfg.multiProvider ? `providers[${cfg.providers.indexOf(settings)}].` : '') + 'requestObject';
    if (ro) assertRequestObjectSupported(ro, server, settings.pushedAuthorizationRequests, label);
    const requestObjectKeyValue = ro ? await requestObjectKey(ro, label) : undefined;
    cfg.logger.debug('oidc-session: discovered the IdP', { provider: settings.id, issuer: server.issuer });
    return { settings, config, issuer: server.issuer, metadata: server, jwks: keys.idTokens, logoutTokenKeys: keys.anonymous, requestObjectKey: requestObjectKeyValue };
  }
}
