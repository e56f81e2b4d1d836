import { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, Response } from 'express';
import { OidcError } from '../core/errors.js';
import type { OidcRequestContext } from './request-context.js';

/** Where the middleware keeps `req.oidc`: a registry symbol, so two copies of the library agree. */
const REQUEST_CONTEXT = Symbol.for('oidc-session.req.oidc');
/** Marks the accessors below, to tell them from an `oidc` another library put on the same prototypes. */
const OURS = Symbol.for('oidc-session.accessor');

const MESSAGE =
  'is not set on this request: the oidc() middleware did not run before this route. Mount it first (app.use(auth)) ' +
  'and on the same app or router; it must also come after express-session. (It keeps the request\'s login in ' +
  'res.locals: add to res.locals, do not replace it.)';

type Slots = Record<symbol, unknown>;

function notMounted(name: string): OidcError {
  return new OidcError('ERR_OIDC_NOT_MOUNTED', `${name} ${MESSAGE}`);
}

function accessor(get: (this: Slots) => unknown): PropertyDescriptor {
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

const REQUEST_ACCESSOR = accessor(function (this: Slots): unknown {
  const context = mountedContext(this);
  if (context === undefined) throw notMounted('req.oidc');
  return context;
});

// res.oidc is made from the request's context on its first read: the middleware writes nothing on the response.
const RESPONSE_ACCESSOR = accessor(function (this: Slots): unknown {
  const req = (this as { req?: object }).req;
  const context = req ? mountedContext(req) : undefined;
  if (context === undefined) throw notMounted('res.oidc');
  return context.responseActions(this as unknown as Response);
});

function install(proto: object, descriptor: PropertyDescriptor): boolean {
  const existing = Object.getOwnPropertyDescriptor(proto, 'oidc');
  if (!existing) Object.defineProperty(proto, 'oidc', descriptor);
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
  const request = install(IncomingMessage.prototype, REQUEST_ACCESSOR);
  const response = install(ServerResponse.prototype, RESPONSE_ACCESSOR);
  return request && response;
}

/**
 * Stores the request's context where `req.oidc` (and, through it, `res.oidc`) read it: in `res.locals`,
 * the per-request object Express makes for the app's own data (a null-prototype object, so a key added
 * to it changes no hidden class). Not on `req`: Express gives every request object a hidden class of its
 * own, and a property added to it halfway through the request made V8 look up again, through the
 * runtime, every property Express, express-session and the app read after that point (inline-cache
 * misses: about 3% of a guarded request's instructions, BENCHMARKS.md; a WeakMap instead measured 8% more
 * instructions than this). On `req` only when there is no `res.locals` (not Express's response). Without
 * our accessors on the prototypes (another library's `oidc` is there), both become own properties too.
 */
export function attachOidc(req: Request, res: Response, context: OidcRequestContext, viaAccessor: boolean): void {
  const locals = (res as unknown as { locals?: Slots }).locals;
  if (locals) locals[REQUEST_CONTEXT] = context;
  else (req as unknown as Slots)[REQUEST_CONTEXT] = context;
  if (viaAccessor) return;
  Object.defineProperty(req, 'oidc', { configurable: true, enumerable: true, writable: true, value: context });
  Object.defineProperty(res, 'oidc', { configurable: true, enumerable: true, writable: true, value: context.responseActions(res) });
}

/** `req.oidc` when the middleware set it, without tripping the accessor above. */
export function mountedContext(req: object): OidcRequestContext | undefined {
  const locals = (req as { res?: { locals?: Slots } }).res?.locals;
  return (locals?.[REQUEST_CONTEXT] ?? (req as Slots)[REQUEST_CONTEXT]) as OidcRequestContext | undefined;
}
