import { OidcError } from '../errors.js';
import { toIdpError } from './upstream-error.js';

/** The URL openid-client fetches for an issuer (OIDC Discovery §4: the path is appended, not replaced). */
export function discoveryUrl(issuer: URL): URL {
  const url = new URL(issuer.href);
  url.pathname = `${url.pathname}/.well-known/openid-configuration`.replace('//', '/');
  return url;
}

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = err; e && chain.length < 5; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

/** What came back, in words: a status and content type, a network error code, or the mismatching issuer. */
function answered(response: Response, suffix = ''): string {
  const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
  return `it answered HTTP ${response.status} (${type})${suffix}`;
}

function whatCameBack(err: unknown, response: Response | undefined): string {
  for (const e of causes(err)) {
    if (e instanceof Response) return answered(e);
    const detail = e as { code?: unknown; attribute?: unknown; expected?: unknown; body?: { issuer?: unknown } };
    if (detail.attribute === 'issuer' && typeof detail.body?.issuer === 'string') {
      return `it names the issuer ${JSON.stringify(detail.body.issuer)}, not ${JSON.stringify(detail.expected)}`;
    }
    if (typeof detail.code === 'string' && /^E[A-Z]+$/.test(detail.code)) return `it could not be reached (${detail.code})`;
  }
  const code = (err as { code?: unknown } | null)?.code;
  const detail = typeof code === 'string' ? ` (${code})` : '';
  return response ? answered(response, `, which is not usable metadata${detail}`) : `the answer was not usable metadata${detail}`;
}

/**
 * A failed discovery as the developer needs it: the URL that was fetched and what came back (status and
 * content type, a connection error, or the issuer it named), never the response body itself.
 */
export function discoveryError(err: unknown, issuer: URL, timeoutMs: number, response?: Response): OidcError {
  const base = toIdpError(err, 'discovery');
  const url = discoveryUrl(issuer).href;
  if (base.code === 'ERR_OIDC_IDP_TIMEOUT') {
    return new OidcError(base.code, `Discovery failed: GET ${url} did not answer within ${timeoutMs} ms (option "httpTimeout")`, { cause: err });
  }
  return new OidcError(base.code, `Discovery failed: GET ${url}: ${whatCameBack(err, response)}. "issuer" must be the IdP's issuer URL, reachable from this server`, {
    cause: err,
    ...(base.idpError ? { idpError: base.idpError } : {}),
  });
}
