import createDebug from 'debug';
import type { Logger } from './options.js';

/** Where a warning goes when the app did not pass a logger; injected so tests can capture it. */
export type WarningSink = (line: string) => void;

/**
 * The logger used without a `logger` option. Warnings are a misconfiguration or an IdP problem the
 * developer must see, so each distinct one (message + error code) is printed once per `oidc()` instance
 * through `console.warn`; repeats, and everything below warn level, go to the `debug` package
 * (`DEBUG=oidc-session:*`), as Express's own tracing does. Callers never pass tokens, codes, verifiers or
 * secrets in `fields` (ids, error codes and claim names only).
 */
export function createDefaultLogger(sink: WarningSink = (line) => console.warn(line)): Logger {
  const trace = createDebug('oidc-session:trace');
  const warnings = createDebug('oidc-session:warn');
  const errors = createDebug('oidc-session:error');
  const seen = new Set<string>();
  const once = (message: string, fields: Record<string, unknown> | undefined, repeat: createDebug.Debugger): void => {
    const code = typeof fields?.code === 'string' ? fields.code : '';
    const key = `${message}\0${code}`;
    if (seen.has(key)) return repeat('%s %O', message, fields ?? {});
    seen.add(key);
    const detail = fields && Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    sink(`${message}${detail} (shown once; DEBUG=oidc-session:* for every occurrence and a trace)`);
  };
  return {
    debug: (message, fields) => trace('%s %O', message, fields ?? {}),
    info: (message, fields) => trace('%s %O', message, fields ?? {}),
    warn: (message, fields) => once(message, fields, warnings),
    error: (message, fields) => once(message, fields, errors),
  };
}
