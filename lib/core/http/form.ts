import { OidcError } from '../errors.js';

const MAX_FORM_BYTES = 64 * 1024;

function formFromParsedBody(body: Record<string, unknown>): string {
  const form = new URLSearchParams();
  for (const [name, value] of Object.entries(body)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      // Never the name: it is the sender's text (`<img src=x onerror=...>[a]` parsed by a nesting body parser).
      if (typeof item !== 'string') throw new OidcError('ERR_OIDC_INVALID_CALLBACK', 'A form parameter is malformed (nested or not text)');
      form.append(name, item);
    }
  }
  return form.toString();
}

/**
 * The urlencoded body of a POST (response_mode=form_post, back-channel logout), whatever the framework:
 * `parsed` is what a body parser already produced (Express `req.body`, Koa `ctx.request.body`), otherwise
 * the raw request stream is read with a size cap.
 */
export async function readUrlencodedForm(contentType: string | undefined, parsed: unknown, stream: AsyncIterable<Buffer>): Promise<string> {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    throw new OidcError('ERR_OIDC_INVALID_CALLBACK', 'The callback POST must be application/x-www-form-urlencoded');
  }
  // Express 4's express.json() sets `req.body = {}` for any request, a form included, without reading it:
  // an empty object says nothing while the stream is still unread.
  const unread = (stream as { readableEnded?: boolean }).readableEnded === false;
  if (parsed && typeof parsed === 'object' && !Buffer.isBuffer(parsed) && !(unread && Object.keys(parsed).length === 0)) {
    return formFromParsedBody(parsed as Record<string, unknown>);
  }
  if (typeof parsed === 'string') return parsed;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) throw new OidcError('ERR_OIDC_INVALID_CALLBACK', 'The callback POST body is too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
