/**
 * Per-instance in-memory storage adapter for oidc-provider. The built-in
 * MemoryAdapter shares one module-level LRU (max 1000 entries) between every
 * Provider in the process and logs a warning; this one is isolated per test IdP
 * and never evicts live entries. Its store can be handed to a new test IdP, so
 * that an IdP stopped and started again keeps its grants, tokens and sessions.
 */
import { randomBytes } from 'node:crypto';

type Payload = Record<string, unknown>;

interface Entry {
  value: unknown;
  expiresAt: number;
}

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * What a test IdP remembers (grants, codes, tokens, sessions, and the keys of its cookies), from
 * `createTestIdpStore()`. Pass the same store to `createTestIdp({ store })` to restart an IdP with its
 * state, as a real IdP with a database would come back.
 */
export class TestIdpStore {
  readonly #map = new Map<string, Entry>();
  /** @internal Keys of the IdP's signed cookies: a restarted IdP still knows its browsers. */
  readonly cookieKeys: readonly string[] = [randomBytes(32).toString('base64url'), randomBytes(32).toString('base64url')];

  /** The value under `key`, or undefined once it expired. */
  get(key: string): unknown {
    const entry = this.#map.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#map.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps `value` under `key`, for `expiresInSeconds` when given. */
  set(key: string, value: unknown, expiresInSeconds?: number): void {
    const expiresAt = typeof expiresInSeconds === 'number' ? Date.now() + expiresInSeconds * 1000 : Infinity;
    this.#map.set(key, { value, expiresAt });
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.#map.delete(key);
  }

  /** Forgets everything (a fresh IdP). */
  clear(): void {
    this.#map.clear();
  }
}

class TestIdpAdapter {
  readonly #model: string;
  readonly #store: TestIdpStore;
  readonly #tolerance: number;

  constructor(model: string, store: TestIdpStore, tolerance: number) {
    this.#model = model;
    this.#store = store;
    this.#tolerance = tolerance;
  }

  #key(id: string): string {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: Payload, expiresIn?: number): Promise<void> {
    const ttl = typeof expiresIn === 'number' ? expiresIn + this.#tolerance : undefined;
    const key = this.#key(id);
    this.#store.set(key, payload, ttl);
    if (this.#model === 'Session' && typeof payload.uid === 'string') {
      this.#store.set(`sessionUid:${payload.uid}`, id, ttl);
    }
    if (typeof payload.userCode === 'string') {
      this.#store.set(`userCode:${payload.userCode}`, id, ttl);
    }
    if (GRANTABLE.has(this.#model) && typeof payload.grantId === 'string') {
      const grantKey = `grant:${payload.grantId}`;
      let members = this.#store.get(grantKey) as Set<string> | undefined;
      if (!members) {
        members = new Set();
        this.#store.set(grantKey, members);
      }
      members.add(key);
    }
  }

  async find(id: string): Promise<Payload | undefined> {
    return this.#store.get(this.#key(id)) as Payload | undefined;
  }

  async findByUid(uid: string): Promise<Payload | undefined> {
    const id = this.#store.get(`sessionUid:${uid}`);
    return typeof id === 'string' ? this.find(id) : undefined;
  }

  async findByUserCode(userCode: string): Promise<Payload | undefined> {
    const id = this.#store.get(`userCode:${userCode}`);
    return typeof id === 'string' ? this.find(id) : undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.#store.get(this.#key(id)) as Payload | undefined;
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.#store.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const grantKey = `grant:${grantId}`;
    const members = this.#store.get(grantKey) as Set<string> | undefined;
    if (members) {
      for (const key of members) this.#store.delete(key);
    }
    this.#store.delete(grantKey);
  }
}

export interface AdapterFactory {
  (model: string): TestIdpAdapter;
  clear(): void;
}

export function createAdapterFactory(clockToleranceSeconds = 15, store: TestIdpStore = new TestIdpStore()): AdapterFactory {
  const factory = ((model: string) => new TestIdpAdapter(model, store, clockToleranceSeconds)) as AdapterFactory;
  factory.clear = () => store.clear();
  return factory;
}

/** A fresh, empty state for `createTestIdp({ store })`. */
export function createTestIdpStore(): TestIdpStore {
  return new TestIdpStore();
}
