/** Key material and JWS minting for the hostile fake OP. */
import { randomBytes } from 'node:crypto';
import { CompactSign, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import type { JwsAlg, SignKey } from './hostile-op-types.js';

export interface KeyEntry {
  kid: string;
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicJwk: JWK;
  spkiPem: string;
}

async function makeKey(alg: 'RS256' | 'ES256', kid: string): Promise<KeyEntry> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  return {
    kid,
    alg,
    privateKey,
    publicJwk: { ...jwk, kid, alg, use: 'sig' },
    spkiPem: await exportSPKI(publicKey),
  };
}

const CRIT_EXT = 'urn:hostile-op:unknown-critical';
const b64u = (v: Uint8Array | string): string => Buffer.from(v).toString('base64url');

export interface MintOptions {
  alg: JwsAlg;
  key?: SignKey;
  /** undefined = kid of the key, null = omit */
  kid?: string | null;
  typ?: string | null;
  crit?: boolean;
  badSignature?: boolean;
  extraHeader?: Record<string, unknown>;
  /** for HS256 with key 'rs': use the JWK JSON bytes instead of the SPKI PEM bytes */
  hsPublicAsJwk?: boolean;
  /** sign with this key instead of one of the ring's (kid only as given in `kid`) */
  customKey?: CryptoKey;
}

export class KeyRing {
  rs!: KeyEntry;
  es!: KeyEntry;
  otherRs!: KeyEntry;
  previousRs: KeyEntry | undefined;
  private generation = 1;
  private readonly clientSecret: string | undefined;

  private constructor(clientSecret: string | undefined) {
    this.clientSecret = clientSecret;
  }

  static async create(clientSecret: string | undefined): Promise<KeyRing> {
    const ring = new KeyRing(clientSecret);
    [ring.rs, ring.es, ring.otherRs] = await Promise.all([
      makeKey('RS256', 'rs-1'),
      makeKey('ES256', 'es-1'),
      makeKey('RS256', 'other-rs'), // never published; signs with the current kid by default
    ]);
    return ring;
  }

  async rotate(): Promise<void> {
    this.generation += 1;
    this.previousRs = this.rs;
    this.rs = await makeKey('RS256', `rs-${this.generation}`);
  }

  jwks(includeEs: boolean, includePrevious: boolean): { keys: JWK[] } {
    const keys = [this.rs.publicJwk];
    if (includePrevious && this.previousRs) keys.push(this.previousRs.publicJwk);
    if (includeEs) keys.push(this.es.publicJwk);
    return { keys };
  }

  private asymmetric(key: SignKey): KeyEntry {
    switch (key) {
      case 'rs':
        return this.rs;
      case 'es':
        return this.es;
      case 'other-rs':
        return this.otherRs;
      case 'previous-rs':
        if (!this.previousRs) throw new Error('hostile-op: no previous key, call rotateKeys() first');
        return this.previousRs;
      case 'secret':
        throw new Error('hostile-op: key "secret" is only valid with alg HS256');
    }
  }

  async mint(payload: Record<string, unknown>, o: MintOptions): Promise<string> {
    const header: Record<string, unknown> = { alg: o.alg };
    const body = new TextEncoder().encode(JSON.stringify(payload));
    let signingKey: CryptoKey | Uint8Array | undefined;
    let defaultKid: string | undefined;
    if (o.customKey) {
      signingKey = o.customKey;
    } else if (o.alg === 'HS256') {
      const k = o.key ?? 'secret';
      if (k === 'secret') {
        if (this.clientSecret === undefined) throw new Error('hostile-op: HS256 with key "secret" needs options.clientSecret');
        signingKey = new TextEncoder().encode(this.clientSecret);
      } else {
        // classic alg confusion: HMAC keyed with the bytes of a public key
        const entry = this.asymmetric(k);
        signingKey = new TextEncoder().encode(o.hsPublicAsJwk ? JSON.stringify(entry.publicJwk) : entry.spkiPem);
        defaultKid = entry.kid;
      }
    } else if (o.alg !== 'none') {
      const k = o.key ?? (o.alg === 'ES256' ? 'es' : 'rs');
      const entry = this.asymmetric(k);
      signingKey = entry.privateKey;
      // 'other-rs' impersonates the current key: same kid, signature that does not verify
      defaultKid = k === 'other-rs' ? this.rs.kid : entry.kid;
    }
    const kid = o.kid === null ? undefined : (o.kid ?? defaultKid);
    if (kid !== undefined) header.kid = kid;
    if (o.typ !== undefined && o.typ !== null) header.typ = o.typ;
    if (o.crit) {
      header.crit = [CRIT_EXT];
      header[CRIT_EXT] = true;
    }
    Object.assign(header, o.extraHeader);

    let jws: string;
    if (signingKey === undefined) {
      jws = `${b64u(JSON.stringify(header))}.${b64u(body)}.`;
    } else {
      jws = await new CompactSign(body)
        .setProtectedHeader(header as { alg: string })
        .sign(signingKey, o.crit ? { crit: { [CRIT_EXT]: true } } : undefined);
    }
    if (o.badSignature) jws = corruptSignature(jws);
    return jws;
  }
}

/** Flip one bit of the first signature byte (or append garbage to an empty signature). */
export function corruptSignature(jws: string): string {
  const i = jws.lastIndexOf('.');
  const sig = Buffer.from(jws.slice(i + 1), 'base64url');
  if (sig.length === 0) return `${jws.slice(0, i + 1)}${b64u(randomBytes(32))}`;
  sig[0] = (sig[0] ?? 0) ^ 0x01;
  return `${jws.slice(0, i + 1)}${sig.toString('base64url')}`;
}
