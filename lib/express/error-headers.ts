import type { NextFunction, Response } from 'express';
import { OidcError } from '../core/errors.js';

/**
 * Hands an error to Express with its headers already on the response: a JSON error handler that only
 * does `res.status(err.status).json(...)` still sends the RFC 6750 challenge and `Cache-Control: no-store`.
 */
export function failWith(res: Response, next: NextFunction, err: unknown): void {
  if (err instanceof OidcError && err.headers && !res.headersSent) {
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
  }
  next(err);
}

/** `failWith` bound to one response, for promise rejections. */
export function failTo(res: Response, next: NextFunction): (err: unknown) => void {
  return (err) => failWith(res, next, err);
}
