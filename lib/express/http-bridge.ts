import type { Request, Response } from 'express';
import { readUrlencodedForm } from '../core/http/form.js';
import { fromNodeRequest } from '../core/http/messages.js';
import type { HttpRequest, HttpResult } from '../core/http/messages.js';

/** The request as the core sees it: the same reading for both frameworks. */
export const toHttpRequest: (req: Request) => HttpRequest = fromNodeRequest;

export function writeResult(res: Response, result: HttpResult): void {
  res.statusCode = result.status;
  for (const [name, value] of Object.entries(result.headers)) res.setHeader(name, value);
  res.end(result.body);
}

/**
 * The urlencoded body of a POST (response_mode=form_post). Uses the body when a body parser already ran,
 * otherwise reads the stream with a size cap.
 */
export function readForm(req: Request): Promise<string> {
  return readUrlencodedForm(req.headers['content-type'], (req as { body?: unknown }).body, req as AsyncIterable<Buffer>);
}
