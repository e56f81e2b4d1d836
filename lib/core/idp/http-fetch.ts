import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import type { ClientRequest, IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { BOUNDS_BODIES, MAX_IDP_RESPONSE_BYTES, ResponseTooLargeError, limitedFetch } from './limited-fetch.js';

/**
 * Idle connections are closed before a Node server's default keep-alive timeout (5 s), so a request is
 * not sent on a socket the IdP is closing; a shorter `Keep-Alive: timeout=` hint from the IdP wins.
 */
const IDLE_SOCKET_MS = 4000;

export interface HttpFetchOptions {
  /** What serves the requests this transport does not take (redirects followed, streamed bodies). */
  fallback?: typeof fetch;
  maxBytes?: number;
}

type Body = string | Uint8Array | null;

/** The request bodies openid-client and jose send; undefined for anything else (left to the fallback). */
function bodyOf(body: RequestInit['body']): Body | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof URLSearchParams) return body.toString();
  return undefined;
}

function headersOf(init: RequestInit, body: Body): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  if (init.body instanceof URLSearchParams && headers['content-type'] === undefined) {
    headers['content-type'] = 'application/x-www-form-urlencoded;charset=UTF-8';
  }
  headers.accept ??= '*/*';
  if (body !== null) headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
  return headers;
}

/** A network failure as fetch reports one, which upstream-error.ts turns into "could not be reached". */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause });
}

function toResponse(res: IncomingMessage, body: Buffer, method: string, url: string): Response {
  const headers = new Headers();
  const raw = res.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i] as string, raw[i + 1] as string);
  const status = res.statusCode ?? 0;
  const empty = method === 'HEAD' || status === 204 || status === 205 || status === 304;
  const response = new Response(empty ? null : (body as Uint8Array<ArrayBuffer>), { status, statusText: res.statusMessage ?? '', headers });
  // openid-client reads response.url; a constructed Response has none.
  Object.defineProperty(response, 'url', { value: url });
  return response;
}

/**
 * The default transport for IdP requests: node:http(s) over keep-alive agents of this engine, answering
 * with the WHATWG Response that openid-client and jose read. It exists for cost: Node's global fetch spends
 * about 0.2 ms more CPU per request in undici's web streams, and a login makes two IdP requests
 * (BENCHMARKS.md). It takes only requests that follow no redirects (openid-client and jose always ask for
 * `redirect: 'manual'`) with a string, byte or form body; anything else goes to the fallback fetch.
 * Response bodies over `maxBytes` are refused while they arrive (the fallback's too, through limitedFetch).
 */
export function httpFetch(options: HttpFetchOptions = {}): typeof fetch {
  const maxBytes = options.maxBytes ?? MAX_IDP_RESPONSE_BYTES;
  const fallback = limitedFetch(options.fallback ?? fetch, maxBytes);
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    'https:': new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };

  const send = (url: URL, method: string, headers: OutgoingHttpHeaders, body: Body, signal: AbortSignal | undefined, retried: boolean): Promise<Response> =>
    new Promise<Response>((resolve, reject) => {
      const isHttps = url.protocol === 'https:';
      let settled = false;
      let responded = false;
      let req: ClientRequest | undefined;
      const onAbort = (): void => {
        req?.destroy();
        finish(() => reject(signal?.reason));
      };
      const finish = (settle: () => void): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      if (signal?.aborted) return reject(signal.reason);
      signal?.addEventListener('abort', onAbort);
      try {
        req = (isHttps ? httpsRequest : httpRequest)(url, { method, headers, agent: isHttps ? agents['https:'] : agents['http:'] }, (res) => {
          responded = true;
          const tooLarge = (): void => {
            finish(() => reject(new ResponseTooLargeError(url.href, maxBytes)));
            res.destroy();
          };
          // A HEAD answer declares the length of a body it does not send.
          if (method !== 'HEAD' && Number(res.headers['content-length']) > maxBytes) return tooLarge();
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size <= maxBytes) chunks.push(chunk);
            else tooLarge();
          });
          res.on('error', (err) => finish(() => reject(fetchFailed(err))));
          res.on('aborted', () => finish(() => reject(fetchFailed(new Error('the IdP closed the connection mid-response')))));
          res.on('end', () => {
            finish(() => {
              try {
                resolve(toResponse(res, Buffer.concat(chunks, size), method, url.href));
              } catch (err) {
                reject(fetchFailed(err));
              }
            });
          });
        });
      } catch (err) {
        return finish(() => reject(fetchFailed(err)));
      }
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive socket the IdP closed as we reused it. Sent once more on a new connection only when
        // nothing came back and the request is safe to repeat: a token request (a code, a rotating refresh
        // token) the IdP may have read must never be sent twice.
        const repeatable = !retried && !responded && req?.reusedSocket && err.code === 'ECONNRESET' && (method === 'GET' || method === 'HEAD');
        finish(() => (repeatable ? send(url, method, headers, body, signal, true).then(resolve, reject) : reject(fetchFailed(err))));
      });
      req.end(body ?? undefined);
    });

  const transport = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (typeof input !== 'string' && !(input instanceof URL)) return fallback(input, init);
    const body = bodyOf(init?.body);
    if (!init || init.redirect !== 'manual' || body === undefined) return fallback(input, init);
    const url = new URL(input);
    // fetch refuses URLs with credentials (node:http would turn them into Basic auth): it says so.
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password) return fallback(input, init);
    return send(url, (init.method ?? 'GET').toUpperCase(), headersOf(init, body), body, init.signal ?? undefined, false);
  }) as typeof fetch;
  Object.defineProperty(transport, BOUNDS_BODIES, { value: true });
  return transport;
}
