import { IncomingMessage, ServerResponse } from 'node:http';
import { OidcError } from '../core/errors.js';
import type { OidcRequestContext } from './request-context.js';
import type { OidcResponseActions } from './types.js';

/** Where the middleware keeps `req.oidc` / `res.oidc`: registry symbols, so two copies of the library agree. */
const REQUEST_CONTEXT = Symbol.for('oidc-session.req.oidc');
const RESPONSE_ACTIONS = Symbol.for('oidc-session.res.oidc');
/** Marks the accessors below, to tell them from an `oidc` another library put on the same prototypes. */
const OURS = Symbol.for('oidc-session.accessor');

const MESSAGE =
  'is not set on this request: the oidc() middleware did not run before this route. Mount it first (app.use(auth)) ' +
  'and on the same app or router; it must also come after express-session.';

type Slots = Record<symbol, unknown>;

function accessor(name: string, key: symbol): PropertyDescriptor {
  const get = function (this: Slots): unknown {
    const value = this[key];
    if (value === undefined) throw new OidcError('ERR_OIDC_NOT_MOUNTED', `${name} ${MESSAGE}`);
    return value;
  };
  (get as unknown as Slots)[OURS] = true;
  return {
    configurable: true,
    enumerable: false,
    get,
    set(this: object, value: unknown): void {
      // Another library (or a test) assigning it gets an ordinary own property.
      Object.defineProperty(this, 'oidc', { configurable: true, enumerable: true, writable: true, value });
    },
  };
}

function install(proto: object, name: string, key: symbol): boolean {
  const existing = Object.getOwnPropertyDescriptor(proto, 'oidc');
  if (!existing) Object.defineProperty(proto, 'oidc', accessor(name, key));
  return !existing || (existing.get as unknown as Slots | undefined)?.[OURS] === true;
}

/**
 * `req.oidc` / `res.oidc` are typed as always present, like express-session's `req.session`. So that a
 * route the middleware does not run before fails with ERR_OIDC_NOT_MOUNTED instead of "Cannot read
 * properties of undefined", Node's request and response prototypes (under every Express version's) get
 * an `oidc` accessor once per process, reading what the middleware stored under a symbol: a plain
 * property write per request, no defineProperty. False when something else already owns `oidc` there;
 * the middleware then defines its own property on each request instead.
 */
export function installNotMountedAccessors(): boolean {
  const request = install(IncomingMessage.prototype, 'req.oidc', REQUEST_CONTEXT);
  const response = install(ServerResponse.prototype, 'res.oidc', RESPONSE_ACTIONS);
  return request && response;
}

/** Stores the request's context and response actions where `req.oidc` / `res.oidc` read them. */
export function attachOidc(req: object, res: object, context: OidcRequestContext, actions: OidcResponseActions, viaAccessor: boolean): void {
  (req as Slots)[REQUEST_CONTEXT] = context;
  (res as Slots)[RESPONSE_ACTIONS] = actions;
  if (viaAccessor) return;
  Object.defineProperty(req, 'oidc', { configurable: true, enumerable: true, writable: true, value: context });
  Object.defineProperty(res, 'oidc', { configurable: true, enumerable: true, writable: true, value: actions });
}

/** `req.oidc` when the middleware set it, without tripping the accessor above. */
export function mountedContext(req: object): OidcRequestContext | undefined {
  return (req as Slots)[REQUEST_CONTEXT] as OidcRequestContext | undefined;
}
