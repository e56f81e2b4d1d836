/** The parts of an incoming request the core needs, independent of the framework. */
export interface HttpRequest {
  readonly method: string;
  /** Path and query as received, relative to where the middleware is mounted. */
  readonly url: string;
  /** Path and query including the mount path (for returnTo). */
  readonly originalUrl: string;
  header(name: string): string | undefined;
}

/** A response for the adapter to write. */
export interface HttpResult {
  status: number;
  headers: Record<string, string>;
  body?: string;
}

/** Pages behind a login or a token are never cached: not by a shared cache, not for the back button after logout. */
export const GUARDED_CACHE_CONTROL = 'no-store';
const NO_STORE = { 'Cache-Control': GUARDED_CACHE_CONTROL, Pragma: 'no-cache' };

export function redirect(location: string, status: 302 | 303 = 302): HttpResult {
  return { status, headers: { ...NO_STORE, Location: location, 'Referrer-Policy': 'no-referrer' } };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return { status, headers: { ...NO_STORE, 'Content-Type': 'application/json; charset=utf-8', ...headers }, body: JSON.stringify(body) };
}

/** A navigation that can show a login page: GET/HEAD asking for HTML, not a script's fetch. */
export function wantsHtml(req: HttpRequest): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (req.header('x-requested-with')) return false;
  const mode = req.header('sec-fetch-mode');
  if (mode && mode !== 'navigate') return false;
  const accept = req.header('accept') ?? '';
  return accept.includes('text/html');
}

/**
 * True when the browser tells us another site started this request: `Sec-Fetch-Site` other than
 * same-origin / none, or an `Origin` header that is not ours.
 */
export function isCrossSite(req: HttpRequest, origin: string): boolean {
  const site = req.header('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const requestOrigin = req.header('origin');
  if (requestOrigin && requestOrigin !== origin) return true;
  return false;
}

/** The query string of a request URL, without the `?`. */
export function rawQuery(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? '' : url.slice(index + 1);
}

export function pathOf(url: string): string {
  const index = url.indexOf('?');
  return index === -1 ? url : url.slice(0, index);
}

/** Node's header object (Express `req.headers`, Koa `ctx.headers`): a repeated header arrives as an array. */
export type NodeHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** `HttpRequest.header` over Node's headers: repeated values joined with ", " as HTTP folds them. */
export function headerReader(headers: NodeHeaders): (name: string) => string | undefined {
  return (name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
}

/** What Express's `req` and Koa's `ctx` both carry, and all that HttpRequest needs from them. */
export interface NodeRequestLike {
  readonly method: string;
  readonly url: string;
  readonly originalUrl?: string;
  readonly headers: NodeHeaders;
}

export function fromNodeRequest(source: NodeRequestLike): HttpRequest {
  return { method: source.method, url: source.url, originalUrl: source.originalUrl ?? source.url, header: headerReader(source.headers) };
}
