interface StoredCookie {
  name: string;
  value: string;
  path: string;
  /** epoch milliseconds; undefined = session cookie */
  expires: number | undefined;
}

function defaultPath(pathname: string): string {
  // RFC 6265 section 5.1.4 default-path
  if (!pathname.startsWith('/')) return '/';
  const idx = pathname.lastIndexOf('/');
  return idx <= 0 ? '/' : pathname.slice(0, idx);
}

function pathMatches(cookiePath: string, requestPath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath.charAt(cookiePath.length) === '/';
}

/**
 * Minimal per-origin cookie jar used by the test IdP's browser driver. It ignores
 * Domain/Secure/SameSite (everything is loopback), honours Path, Max-Age and
 * Expires (a past date or Max-Age<=0 deletes the cookie).
 */
export class CookieJar {
  readonly #origins = new Map<string, Map<string, StoredCookie>>();

  /** Store the cookies from one or more `Set-Cookie` header values received from `url`. */
  set(url: string | URL, setCookie: string | readonly string[]): void {
    const target = new URL(url);
    const headers = typeof setCookie === 'string' ? [setCookie] : setCookie;
    let bucket = this.#origins.get(target.origin);
    if (!bucket) {
      bucket = new Map();
      this.#origins.set(target.origin, bucket);
    }
    for (const header of headers) {
      const [pair = '', ...attributes] = header.split(';');
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      let value = pair.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      let path = defaultPath(target.pathname);
      let expires: number | undefined;
      let maxAge: number | undefined;
      for (const attribute of attributes) {
        const aeq = attribute.indexOf('=');
        const key = (aeq === -1 ? attribute : attribute.slice(0, aeq)).trim().toLowerCase();
        const val = aeq === -1 ? '' : attribute.slice(aeq + 1).trim();
        if (key === 'path' && val.startsWith('/')) path = val;
        else if (key === 'expires') {
          const ts = Date.parse(val);
          if (!Number.isNaN(ts)) expires = ts;
        } else if (key === 'max-age' && /^-?\d+$/.test(val)) maxAge = Number(val);
      }
      if (maxAge !== undefined) expires = Date.now() + maxAge * 1000;
      const key = `${name}\u0000${path}`;
      if (expires !== undefined && expires <= Date.now()) {
        bucket.delete(key);
      } else {
        bucket.set(key, { name, value, path, expires });
      }
    }
  }

  /** Store all `Set-Cookie` headers of a fetch `Response` received from `url`. */
  capture(url: string | URL, response: Response): void {
    const values = response.headers.getSetCookie();
    if (values.length) this.set(url, values);
  }

  /** Value for a `Cookie` request header to `url` ('' when no cookie applies). */
  header(url: string | URL): string {
    const target = new URL(url);
    const bucket = this.#origins.get(target.origin);
    if (!bucket) return '';
    const now = Date.now();
    const matching: StoredCookie[] = [];
    for (const [key, cookie] of bucket) {
      if (cookie.expires !== undefined && cookie.expires <= now) {
        bucket.delete(key);
        continue;
      }
      if (pathMatches(cookie.path, target.pathname)) matching.push(cookie);
    }
    // longer paths first, as browsers do
    matching.sort((a, b) => b.path.length - a.path.length);
    return matching.map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The value of cookie `name` that would be sent to `url`, if any. */
  get(url: string | URL, name: string): string | undefined {
    const target = new URL(url);
    const bucket = this.#origins.get(target.origin);
    if (!bucket) return undefined;
    const now = Date.now();
    let best: StoredCookie | undefined;
    for (const cookie of bucket.values()) {
      if (cookie.name !== name || !pathMatches(cookie.path, target.pathname)) continue;
      if (cookie.expires !== undefined && cookie.expires <= now) continue;
      if (!best || cookie.path.length > best.path.length) best = cookie;
    }
    return best?.value;
  }

  /** Forget all cookies (of one origin when given). */
  clear(origin?: string | URL): void {
    if (origin === undefined) this.#origins.clear();
    else this.#origins.delete(new URL(origin).origin);
  }
}
