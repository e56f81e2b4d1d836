/** No IdP answer we need (metadata, JWKS, tokens, userinfo) comes near this; a bigger one is hostile. */
export const MAX_IDP_RESPONSE_BYTES = 1024 * 1024;

/** Marks a fetch that bounds response bodies itself, so limitedFetch() need not read them again. */
export const BOUNDS_BODIES = Symbol.for('oidc-session.fetch.boundsBodies');

export class ResponseTooLargeError extends Error {
  readonly code = 'ERR_OIDC_RESPONSE_TOO_LARGE';
  constructor(url: string, maxBytes = MAX_IDP_RESPONSE_BYTES) {
    super(`The IdP response from ${new URL(url).pathname} is larger than ${maxBytes} bytes`);
    this.name = 'ResponseTooLargeError';
  }
}

/**
 * Wraps a fetch so that no IdP response body larger than `maxBytes` is ever buffered: openid-client and
 * jose read whole bodies with `response.json()`, so a hostile or broken IdP could otherwise make us hold
 * (and store) megabytes.
 */
export function limitedFetch(fetchImpl: typeof fetch, maxBytes = MAX_IDP_RESPONSE_BYTES): typeof fetch {
  if ((fetchImpl as { [BOUNDS_BODIES]?: boolean })[BOUNDS_BODIES]) return fetchImpl;
  return async (input, init) => {
    const response = await fetchImpl(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => undefined);
      throw new ResponseTooLargeError(url, maxBytes);
    }
    // fetch enforces a declared Content-Length (a longer body is an error), so such a body is bounded
    // already; only a chunked one has to be counted while it is read.
    if (!response.body || (response.headers.has('content-length') && Number.isFinite(declared))) return response;
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = response.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new ResponseTooLargeError(url, maxBytes);
      }
      chunks.push(value);
    }
    const body = Buffer.concat(chunks);
    const limited = new Response(response.status === 204 || response.status === 304 ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
    // openid-client reads response.url (e.g. for the redirect check); a constructed Response has none.
    Object.defineProperty(limited, 'url', { value: response.url });
    Object.defineProperty(limited, 'redirected', { value: response.redirected });
    return limited;
  };
}
