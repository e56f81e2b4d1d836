/**
 * The test IdP's user directory. Shared by the login form and oidc-provider's findAccount, and open to
 * additions at runtime (`idp.addUser()`, `loginAs(..., { claims })`), so a test can mint the exact user
 * it needs without restarting the IdP.
 */
import type { TestIdpUser } from './types.js';

export interface ResolvedUser {
  username: string;
  password: string;
  sub: string;
  claims: Record<string, unknown>;
}

function requireText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw new TypeError(`test user: ${what} must be a non-empty string`);
  return value;
}

export class UserDirectory {
  readonly #byUsername = new Map<string, ResolvedUser>();
  readonly #bySub = new Map<string, ResolvedUser>();

  constructor(users: readonly TestIdpUser[]) {
    for (const user of users) this.add(user);
  }

  add(user: TestIdpUser): ResolvedUser {
    const username = requireText(user.username, 'username');
    const password = requireText(user.password, `password of ${username}`);
    const sub = requireText(user.sub ?? username, `sub of ${username}`);
    if (user.claims !== undefined && (typeof user.claims !== 'object' || user.claims === null || Array.isArray(user.claims))) {
      throw new TypeError(`test user: claims of ${username} must be an object`);
    }
    if (this.#byUsername.has(username) || this.#bySub.has(sub)) throw new TypeError(`duplicate test user ${username} (sub ${sub})`);
    const resolved: ResolvedUser = { username, password, sub, claims: structuredClone(user.claims ?? {}) };
    this.#byUsername.set(username, resolved);
    this.#bySub.set(sub, resolved);
    return resolved;
  }

  bySub(sub: string): ResolvedUser | undefined {
    return this.#bySub.get(sub);
  }

  byUsername(username: string): ResolvedUser | undefined {
    return this.#byUsername.get(username);
  }

  /** The user with these credentials, if any. */
  check(username: string, password: string): ResolvedUser | undefined {
    const user = this.#byUsername.get(username);
    return user && user.password === password ? user : undefined;
  }

  list(): ResolvedUser[] {
    return [...this.#byUsername.values()];
  }

  /** "alice / alice (admin), bob / bob (user)" for the login page. */
  hint(): string {
    return this.list()
      .map((u) => {
        const roles = u.claims.roles;
        const list = Array.isArray(roles) ? roles.map(String) : typeof roles === 'string' ? [roles] : [];
        return list.length ? `${u.username} / ${u.password} (${list.join(', ')})` : `${u.username} / ${u.password}`;
      })
      .join(', ');
  }
}
