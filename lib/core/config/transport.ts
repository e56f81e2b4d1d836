const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/**
 * Whether plain http may be used with this URL's host: loopback always (development, tests), any other
 * host only with `allowInsecureRequests: true`. The one answer for our own baseUrl, the issuers, the IdP
 * metadata endpoints and the resource server's discovery.
 */
export function allowsHttp(url: URL, allowInsecure: boolean): boolean {
  return allowInsecure || isLoopbackHost(url.hostname);
}

/** https, or http where allowsHttp() permits it; any other scheme never. */
export function allowedScheme(url: URL, allowInsecure: boolean): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && allowsHttp(url, allowInsecure));
}
