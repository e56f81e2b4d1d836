const MAX_RETURN_TO_LENGTH = 2048;
// eslint-disable-next-line no-control-regex
const CONTROL_OR_BACKSLASH = /[\u0000-\u001f\u007f\\]/;

function safeDecode(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

/**
 * Returns `value` when it is a same-origin relative path (`/profile?tab=1`), otherwise undefined.
 * Rejects protocol-relative (`//host`), backslash tricks (`/\host`), schemes, control characters, and the
 * same payloads percent-encoded once or twice, so the result can never send a browser off-site.
 */
export function safeReturnTo(value: unknown, origin: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO_LENGTH) return undefined;
  let candidate = value;
  for (let round = 0; round < 3; round++) {
    if (!candidate.startsWith('/') || candidate.startsWith('//') || CONTROL_OR_BACKSLASH.test(candidate)) return undefined;
    const decoded = safeDecode(candidate);
    if (decoded === undefined) return undefined;
    if (decoded === candidate) break;
    candidate = decoded;
  }
  let resolved: URL;
  try {
    resolved = new URL(value, origin);
  } catch {
    return undefined;
  }
  // Dot segments can collapse into a protocol-relative path: `/.//evil.example` resolves to `//evil.example`.
  if (resolved.origin !== origin || resolved.pathname.startsWith('//')) return undefined;
  return resolved.pathname + resolved.search + resolved.hash;
}
