import { createRemoteJWKSet, customFetch as joseCustomFetch } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import type * as client from 'openid-client';
import { claimValues } from '../tokens/claim-path.js';
import { singleFlight } from '../idp/single-flight.js';
import { allowedScheme } from '../config/transport.js';
import { OidcError } from '../errors.js';
import type { TtlLock } from '../stores/lock.js';
import type { Clock } from '../config/options.js';
import { insufficientClaims, insufficientScope, invalidDpopProof, invalidToken, missingToken } from './challenge.js';
import type { ChallengeContext, TokenScheme } from './challenge.js';
import { readCredentials } from './credentials.js';
import { dpopReplayKey, verifyDpopProof } from './dpop.js';
import type { DpopProof } from './dpop.js';
import { Introspector, introspectionConfig } from './introspection.js';
import { looksLikeJwt, verifyJwtAccessToken } from './jwt.js';
import type { ResolvedBearer } from './options.js';

/** What a verified request carries: `req.auth` (Express), `ctx.state.auth` (Koa). */
export interface AuthInfo {
  /** The access token as presented. */
  readonly token: string;
  /** The JWT claims, or the introspection response for an opaque token. */
  readonly claims: Readonly<Record<string, unknown>>;
  /** From `scope` (space-separated) and / or `scp` (array or space-separated). */
  readonly scopes: readonly string[];
  /** `client_id` (RFC 9068), else `azp`. */
  readonly clientId: string | undefined;
  readonly sub: string | undefined;
  /** How the token was presented. */
  readonly scheme: TokenScheme;
}

/** The parts of a request the verifier reads, independent of the framework. */
export interface BearerRequest {
  readonly method: string;
  header(name: string): string | undefined;
  /** Path and query as the app received it (`originalUrl`); DPoP `htu` pairs it with the configured public URL. */
  path(): string;
}

/** Where the verifier learns about the issuer: its own discovery, or the login side's. */
export interface IssuerEndpoints {
  issuer: string;
  server: client.ServerMetadata;
  /** Plain http is allowed for loopback hosts, and for every host with this flag (development only). */
  allowInsecure: boolean;
  timeoutMs: number;
  customFetch: typeof fetch | undefined;
}

interface Resources {
  issuer: string;
  keys: JWTVerifyGetKey;
  introspection: client.Configuration | undefined;
}

/** Brands our AuthInfo objects and remembers the challenge settings of the verifier that made them. */
const AUTH_INFO = Symbol('oidc-session.auth-info');

/** True for the AuthInfo objects this library made (not another library's `req.auth`). */
export function isAuthInfo(value: unknown): value is AuthInfo {
  return typeof value === 'object' && value !== null && typeof (value as Record<symbol, unknown>)[AUTH_INFO] === 'object';
}

function challengeOf(auth: AuthInfo): ChallengeContext {
  return ((auth as unknown as Record<symbol, unknown>)[AUTH_INFO] as ChallengeContext | undefined) ?? { realm: undefined, dpop: undefined };
}

function authInfo(token: string, claims: Readonly<Record<string, unknown>>, scheme: TokenScheme, ctx: ChallengeContext): AuthInfo {
  const scopes = [...new Set([...claimValues(claims.scope), ...claimValues(claims.scp)])];
  const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  const info: AuthInfo = { token, claims, scopes, clientId: str(claims.client_id) ?? str(claims.azp), sub: str(claims.sub), scheme };
  Object.defineProperty(info, AUTH_INFO, { value: Object.freeze({ realm: ctx.realm, dpop: ctx.dpop }) });
  return Object.freeze(info);
}

/** 403 insufficient_scope unless every one of `required` was granted to the token. */
export function checkScopes(auth: AuthInfo, required: readonly string[]): void {
  if (required.some((scope) => !auth.scopes.includes(scope))) throw insufficientScope(challengeOf(auth), auth.scheme, required);
}

/** 403 for a bearer token that is valid but fails a claim or role check. */
export function claimsDenied(auth: AuthInfo, reason: string): OidcError {
  return insufficientClaims(challengeOf(auth), auth.scheme, reason);
}

function jwkThumbprintOf(claims: Readonly<Record<string, unknown>>): string | undefined {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  return typeof jkt === 'string' ? jkt : undefined;
}

/**
 * The resource-server core: reads the Authorization (and DPoP) header, verifies the access token (JWT
 * locally, opaque through introspection), checks the DPoP binding and the required scopes, and returns
 * the AuthInfo, or throws an OidcError carrying the RFC 6750 WWW-Authenticate header.
 */
export class BearerVerifier {
  readonly settings: ResolvedBearer;
  private readonly endpoints: () => Promise<IssuerEndpoints>;
  private readonly clock: Clock;
  private readonly lock: TtlLock;
  private readonly introspector: Introspector | undefined;
  /** Keys and introspection client, built once per successful discovery; a failure is retried next time. */
  private readonly resources: () => Promise<Resources> = singleFlight(() => this.endpoints().then((endpoints) => this.build(endpoints)));

  constructor(settings: ResolvedBearer, endpoints: () => Promise<IssuerEndpoints>, clock: Clock, lock: TtlLock) {
    this.settings = settings;
    this.endpoints = endpoints;
    this.clock = clock;
    this.lock = lock;
    this.introspector = settings.introspection ? new Introspector(settings, settings.introspection) : undefined;
  }

  async authenticate(req: BearerRequest): Promise<AuthInfo> {
    const s = this.settings;
    const credentials = readCredentials(req.header('authorization'), s);
    if (!credentials) throw missingToken(s);
    const { scheme, token } = credentials;
    if (scheme === 'DPoP' && !s.dpop) throw invalidToken(s, 'Bearer', 'DPoP-bound tokens are not accepted here');
    if (scheme === 'Bearer' && s.dpop?.required) throw invalidToken(s, 'DPoP', 'This API requires a DPoP-bound access token');
    const nowMs = this.clock();
    // The proof is checked before the token: it costs no request to the IdP.
    // resolveBearerOptions() makes baseUrl required with dpop.
    const proof = scheme === 'DPoP' && s.dpop && s.baseUrl
      ? await verifyDpopProof(req.header('dpop'), {
        ctx: { ...s, dpop: s.dpop }, method: req.method, baseUrl: s.baseUrl, path: req.path(), accessToken: token, nowMs, clockToleranceSec: s.clockToleranceSec,
      })
      : undefined;
    const resources = await this.resources();
    const claims = await this.verifyToken(resources, token, scheme, nowMs);
    await this.checkBinding(claims, scheme, proof);
    const auth = authInfo(token, claims, scheme, s);
    checkScopes(auth, s.scopes);
    return auth;
  }

  private async verifyToken(resources: Resources, token: string, scheme: TokenScheme, nowMs: number): Promise<Readonly<Record<string, unknown>>> {
    if (looksLikeJwt(token)) {
      return Object.freeze(await verifyJwtAccessToken(token, { settings: this.settings, issuer: resources.issuer, keys: resources.keys, scheme, nowMs }));
    }
    if (!this.introspector || !resources.introspection) {
      throw invalidToken(this.settings, scheme, 'The access token is not a JWT and this API does not introspect tokens');
    }
    return this.introspector.claims(resources.introspection, resources.issuer, token, scheme, nowMs);
  }

  /** RFC 9449 §7.1-7.2: a DPoP token needs the proof of its key; a DPoP-bound token is never a plain bearer. */
  private async checkBinding(claims: Readonly<Record<string, unknown>>, scheme: TokenScheme, proof: DpopProof | undefined): Promise<void> {
    const s = this.settings;
    const jkt = jwkThumbprintOf(claims);
    const cnf = claims.cnf as Record<string, unknown> | undefined;
    if (cnf && typeof cnf === 'object' && 'x5t#S256' in cnf) {
      throw invalidToken(s, scheme, 'Certificate-bound (mTLS) access tokens are not supported here');
    }
    if (!proof) {
      if (jkt) throw invalidToken(s, scheme, 'This access token is DPoP-bound; present it with the DPoP scheme and a proof');
      return;
    }
    if (!jkt) throw invalidToken(s, 'DPoP', 'The access token is not DPoP-bound (no cnf.jkt)');
    if (jkt !== proof.jkt) throw invalidDpopProof(s, 'The DPoP proof key does not match the access token binding');
    if (!(await this.lock.acquire(dpopReplayKey(proof), proof.replayWindowSec * 1000))) {
      throw invalidDpopProof(s, 'The DPoP proof was already used (jti replay)');
    }
  }

  private build(endpoints: IssuerEndpoints): Resources {
    const { server } = endpoints;
    if (!server.jwks_uri) throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', 'The IdP metadata has no jwks_uri');
    const jwksUrl = new URL(server.jwks_uri);
    if (!allowedScheme(jwksUrl, endpoints.allowInsecure)) throw new OidcError('ERR_OIDC_DISCOVERY_FAILED', 'The IdP jwks_uri must use https');
    // Our own key set, not the login side's: anyone can send a bearer token, so an unknown `kid` may only
    // trigger a refetch once per cool-down, whereas ID tokens straight from the token endpoint may refetch at once.
    const keys = createRemoteJWKSet(jwksUrl, {
      timeoutDuration: endpoints.timeoutMs,
      cooldownDuration: this.settings.jwksCooldownSec * 1000,
      ...(endpoints.customFetch ? { [joseCustomFetch]: endpoints.customFetch as never } : {}),
    });
    const introspection = this.settings.introspection
      ? introspectionConfig(this.settings.introspection, { server, allowInsecure: endpoints.allowInsecure, timeoutSec: endpoints.timeoutMs / 1000, customFetch: endpoints.customFetch })
      : undefined;
    return { issuer: endpoints.issuer, keys, introspection };
  }
}
