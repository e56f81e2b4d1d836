import * as client from 'openid-client';
import { calculateJwkThumbprint, exportJWK, importJWK, SignJWT } from 'jose';
import type { JWK } from 'jose';
import { createHash, randomBytes } from 'node:crypto';
import type { webcrypto } from 'node:crypto';
import { algFromKey, isKeyPair } from '../config/dpop-option.js';
import type { ResolvedDpop } from '../config/dpop-option.js';
import { OidcError } from '../errors.js';
import type { DiscoveredProvider, ProviderClient } from '../idp/provider-client.js';
import type { AuthenticatedSession } from '../session/session-data.js';

export type { DpopOption, ResolvedDpop } from '../config/dpop-option.js';
export { algFromKey, resolveDpop } from '../config/dpop-option.js';

/** The DPoP options for IdP calls on behalf of a login (refresh, userinfo), undefined without DPoP. */
export type DpopFor = (auth: AuthenticatedSession) => Promise<client.DPoPOptions | undefined>;

const HANDLE_CACHE_SIZE = 1000;

function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, key_ops: _ops, ext: _ext, ...pub } = jwk as JWK & Record<string, unknown>;
  return pub;
}

function algOf(jwk: JWK): string {
  if (jwk.alg) return jwk.alg;
  if (jwk.kty === 'EC') return jwk.crv === 'P-384' ? 'ES384' : jwk.crv === 'P-521' ? 'ES512' : 'ES256';
  if (jwk.kty === 'OKP') return 'EdDSA';
  throw new OidcError('ERR_OIDC_INVALID_CONFIG', 'oidc(): an RSA "dpop" JWK needs "alg" (PS256, RS256...)');
}

async function keyPairOf(jwk: JWK): Promise<webcrypto.CryptoKeyPair> {
  const alg = algOf(jwk);
  try {
    const privateKey = (await importJWK(jwk, alg)) as webcrypto.CryptoKey;
    const publicKey = (await importJWK(publicPart(jwk), alg, { extractable: true })) as webcrypto.CryptoKey;
    return { privateKey, publicKey };
  } catch (err) {
    throw new OidcError('ERR_OIDC_INVALID_CONFIG', 'oidc(): the "dpop" key could not be imported', { cause: err });
  }
}

/** What a login starts with: the handle for the token request and, per session, the key to keep. */
export interface LoginDpop {
  options: client.DPoPOptions;
  /** Private JWK stored in the session (mode `session` only). */
  sessionKey?: JWK;
}

/**
 * DPoP key pairs and openid-client handles. A handle remembers the IdP's DPoP-Nonce, so handles are
 * reused per (provider, key) in a bounded map instead of being made per request (which would cost an
 * extra round trip whenever the IdP requires a nonce).
 */
export class DpopKeys {
  private readonly setting: ResolvedDpop | undefined;
  private readonly handles = new Map<string, { handle: client.DPoPHandle; pair: webcrypto.CryptoKeyPair }>();
  private appPair: Promise<webcrypto.CryptoKeyPair> | undefined;

  constructor(setting: ResolvedDpop | undefined) {
    this.setting = setting;
  }

  get enabled(): boolean {
    return this.setting !== undefined;
  }

  /** The DPoP options for a login's refreshes and userinfo (none for a login made before `dpop` was on). */
  forLogins(providers: (id: string) => ProviderClient): DpopFor | undefined {
    if (!this.setting) return undefined;
    const perSession = this.setting.mode === 'session';
    return async (auth) => (perSession && !auth.dpopKey ? undefined : this.options(await providers(auth.provider).get(), auth.dpopKey));
  }

  /** The key for a new login: a fresh ES256 pair per session, or the app's pair. */
  async forLogin(provider: DiscoveredProvider): Promise<LoginDpop | undefined> {
    if (!this.setting) return undefined;
    if (this.setting.mode === 'app') return { options: await this.options(provider, undefined) };
    const pair = await client.randomDPoPKeyPair('ES256', { extractable: true });
    const sessionKey = { ...(await exportJWK(pair.privateKey)), alg: 'ES256' };
    return { options: { DPoP: this.handleFor(provider, await calculateJwkThumbprint(sessionKey), pair) }, sessionKey };
  }

  /** The DPoP options for a login's later IdP calls (refresh, userinfo), or undefined without DPoP. */
  async options(provider: DiscoveredProvider, sessionKey: JWK | undefined): Promise<client.DPoPOptions> {
    const { pair, thumbprint } = await this.pairOf(sessionKey);
    return { DPoP: this.handleFor(provider, thumbprint, pair) };
  }

  /** RFC 9449 §7: a proof for one request to an API with the bound access token (`ath`). */
  async proof(sessionKey: JWK | undefined, method: string, url: URL, accessToken: string, nonce?: string): Promise<string> {
    const { pair } = await this.pairOf(sessionKey);
    const jwk = await exportJWK(pair.publicKey);
    const alg = sessionKey ? algOf(sessionKey) : this.setting?.mode === 'app' && !isKeyPair(this.setting.key) ? algOf(this.setting.key) : algFromKey(pair.privateKey);
    return new SignJWT({
      htm: method.toUpperCase(),
      htu: `${url.origin}${url.pathname}`,
      ath: createHash('sha256').update(accessToken).digest('base64url'),
      jti: randomBytes(16).toString('base64url'),
      ...(nonce ? { nonce } : {}),
    })
      .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk })
      .setIssuedAt()
      .sign(pair.privateKey);
  }

  private async pairOf(sessionKey: JWK | undefined): Promise<{ pair: webcrypto.CryptoKeyPair; thumbprint: string }> {
    if (sessionKey) return { pair: await keyPairOf(sessionKey), thumbprint: await calculateJwkThumbprint(sessionKey) };
    if (this.setting?.mode !== 'app') throw new OidcError('ERR_OIDC_INVALID_CONFIG', 'This login has no DPoP key (it was made before "dpop" was turned on)');
    const key = this.setting.key;
    const pair = await (this.appPair ??= isKeyPair(key) ? Promise.resolve(key) : keyPairOf(key));
    return { pair, thumbprint: await calculateJwkThumbprint(await exportJWK(pair.publicKey)) };
  }

  private handleFor(provider: DiscoveredProvider, thumbprint: string, pair: webcrypto.CryptoKeyPair): client.DPoPHandle {
    const id = `${provider.settings.id}\n${thumbprint}`;
    let entry = this.handles.get(id);
    if (entry) {
      this.handles.delete(id);
    } else {
      entry = { handle: client.getDPoPHandle(provider.config, pair), pair };
      if (this.handles.size >= HANDLE_CACHE_SIZE) this.handles.delete(this.handles.keys().next().value as string);
    }
    this.handles.set(id, entry);
    return entry.handle;
  }
}

