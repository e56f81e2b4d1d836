import { IncomingMessage, ServerResponse } from 'node:http';
import { OidcError } from '../core/errors.js';

const MESSAGE =
  'is not set on this request: the oidc() middleware did not run before this route. Mount it first (app.use(auth)) ' +
  'and on the same app or router; it must also come after express-session.';

function notMounted(name: string): PropertyDescriptor {
  return {
    configurable: true,
    enumerable: false,
    get(): never {
      throw new OidcError('ERR_OIDC_NOT_MOUNTED', `${name} ${MESSAGE}`);
    },
    set(this: object, value: unknown): void {
      // The middleware (or another library, or a test) assigning it gets an ordinary own property.
      Object.defineProperty(this, 'oidc', { configurable: true, enumerable: true, writable: true, value });
    },
  };
}

/**
 * `req.oidc` / `res.oidc` are typed as always present, like express-session's `req.session`. So that a
 * route the middleware does not run before fails with ERR_OIDC_NOT_MOUNTED instead of "Cannot read
 * properties of undefined", Node's request and response prototypes (under every Express version's)
 * get a throwing accessor once per process; the middleware's own property hides it. Idempotent, and
 * nothing is replaced when something else already defines `oidc` there.
 */
export function installNotMountedAccessors(): void {
  for (const [proto, name] of [[IncomingMessage.prototype, 'req.oidc'], [ServerResponse.prototype, 'res.oidc']] as const) {
    if (!Object.hasOwn(proto, 'oidc')) Object.defineProperty(proto, 'oidc', notMounted(name));
  }
}

/** `req.oidc` when the middleware set it, without tripping the accessor above. */
export function mountedContext<T>(target: { oidc: T }): T | undefined {
  return Object.hasOwn(target, 'oidc') ? target.oidc : undefined;
}
