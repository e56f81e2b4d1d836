import type { HttpResult } from './messages.js';

/** Text for an HTML attribute or element: every character that could end either is escaped. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * One of our own small pages (the form_post resubmit, the sign-in retry): never cached, never framed,
 * and no Referer that could carry the callback's parameters elsewhere. `bodyHtml` is already escaped.
 */
export function htmlPage(status: number, title: string, bodyHtml: string, bodyAttributes = ''): HttpResult {
  return {
    status,
    headers: {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
    },
    body:
      `<!doctype html><html><head><meta charset="utf-8"><meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title></head>` +
      `<body${bodyAttributes}>${bodyHtml}</body></html>`,
  };
}
