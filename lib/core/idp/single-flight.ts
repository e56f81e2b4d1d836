/**
 * `start()` once for all concurrent and later callers; a rejected attempt is forgotten, so the next call
 * tries again (an IdP that comes back needs no restart). Held per instance, never at module level.
 */
export function singleFlight<T>(start: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    if (!pending) {
      const attempt = start();
      pending = attempt;
      attempt.catch(() => {
        if (pending === attempt) pending = undefined;
      });
    }
    return pending;
  };
}
