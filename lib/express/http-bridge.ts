import type { Request, Response } from 'express';
import { OidcError } from '../core/errors.js';
import type { HttpRequest, HttpResult } from '../core/http.js';

const MAX_FORM_BYTES = 64 * 1024;

export function toHttpRequest(req: Request): HttpRequest {
  return {
    method: req.method,
    url: req.url,
    originalUrl: req.originalUrl ?? req.url,
    header: (name) => {
      const value = req.headers[name];
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

export function writeResult(res: Response, result: HttpResult): void {
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  res.end(result.body);
}

function formFromParsedBody(body: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (typeof item !== 'string') throw new OidcError('ERR_OIDC_INVALID_CALLBACK', `The form parameter "${name}" is malformed`);
      form.append(name, item);
    }
  }
  return form.toString();
}

/**
 * The urlencoded body of a POST (response_mode=form_post). Uses the body when a body parser already ran,
 * otherwise reads the stream with a size cap.
 */
export async function readForm(req: Request): Promise<string> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OidcError('ERR_OIDC_INVALID_CALLBACK', 'The callback POST must be application/x-www-form-urlencoded');
  }
  const parsed = (req as { body?: unknown }).body;
  if (parsed && typeof parsed === 'object' && !Buffer.isBuffer(parsed)) return formFromParsedBody(parsed as Record<string, unknown>);
  if (typeof parsed === 'string') return parsed;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new OidcError('ERR_OIDC_INVALID_CALLBACK', 'The callback POST body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
