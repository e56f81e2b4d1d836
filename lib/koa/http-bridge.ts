import type { Context } from 'koa';
import { readUrlencodedForm } from '../core/http/form.js';
import { fromNodeRequest } from '../core/http/messages.js';
import type { HttpRequest, HttpResult } from '../core/http/messages.js';

/** The request as the core sees it: the same reading for both frameworks. */
export const toHttpRequest: (ctx: Context) => HttpRequest = fromNodeRequest;

export function writeResult(ctx: Context, result: HttpResult): void {
  ctx.status = result.status;
  ctx.set(result.headers);
  // An empty string, not undefined: Koa would answer a bodiless redirect with its own text ("Found").
  ctx.body = result.body ?? '';
}

/** The urlencoded body of a POST: `ctx.request.body` when a body parser already ran, else the raw stream. */
export function readForm(ctx: Context): Promise<string> {
  return readUrlencodedForm(ctx.headers['content-type'], (ctx.request as { body?: unknown }).body, ctx.req);
}
