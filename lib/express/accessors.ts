import type { Request } from 'express';
import { mountedContext } from './not-mounted.js';

const USER: PropertyDescriptor = {
  configurable: true,
  enumerable: true,
  get(this: Request): unknown {
    return mountedContext(this)?.user;
  },
  set(this: Request, value: unknown): void {
    // Another middleware (passport, a test) assigning req.user gets an ordinary property of its own.
    Object.defineProperty(this, 'user', { configurable: true, enumerable: true, writable: true, value });
  },
};

/**
 * Defines `req.user` on every Express app's own request prototype from `proto` up to the outermost app:
 * `app.request` holds `app` as an own property, Express's shared base prototypes do not. A mounted
 * sub-app's prototype inherits from its parent's (Express's `mount` handler), so installing from the app
 * where `oidc()` runs up to the top covers its sub-apps, its parents and their other sub-apps. False when
 * `proto` is no app's (the caller then defines it per object).
 */
function installOn(proto: object | null): boolean {
  let covered = false;
  for (let p = proto; p !== null && Object.hasOwn(p, 'app'); p = Object.getPrototypeOf(p) as object | null) {
    covered = true;
    if (Object.getOwnPropertyDescriptor(p, 'user')?.get !== USER.get) Object.defineProperty(p, 'user', USER);
  }
  return covered;
}

/**
 * `req.user` as a lazy accessor on the app's request prototype, Express's own extension point: a request
 * then costs no property definition. (An accessor defined on each request object costs a runtime call per
 * request; one with a closure per request gave every request a hidden class of its own: BENCHMARKS.md.)
 * Not on Node's IncomingMessage prototype like `req.oidc` (not-mounted.ts): `req.user` is passport's too,
 * and an app without oidc() keeps a plain request. The returned function installs it when it meets an
 * app's prototype for the first time; for every other request it is one prototype comparison.
 */
export function userAccessor(): (req: Request) => void {
  let requestProto: object | null = null;
  return (req) => {
    const proto = Object.getPrototypeOf(req) as object | null;
    if (proto === requestProto) return;
    if (installOn(proto)) requestProto = proto;
    else Object.defineProperty(req, 'user', USER);
  };
}
