import type { Clock, Logger } from '../config/options.js';
import { OidcError } from '../errors.js';

const FIRST_PAUSE_MS = 1000;
const LONGEST_PAUSE_MS = 30_000;

interface Outage {
  failures: number;
  /** No new refresh at this IdP before this time (ms). */
  until: number;
  error: OidcError;
  /** One refresh is trying whether the IdP is back; the others keep waiting for its outcome. */
  probing: boolean;
}

/**
 * Back-off per IdP for automatic refreshes that failed on the IdP's side (unreachable, 5xx, too slow).
 * While an IdP is down, calling it again on every request of every due session only adds load and
 * latency: after a failure one refresh is let through per pause (1 s, doubling up to 30 s), the others
 * fail at once with the last error. The outage is logged when it starts and when it ends, not per request.
 */
export class RefreshBackoff {
  private readonly outages = new Map<string, Outage>();
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(clock: Clock, logger: Logger) {
    this.clock = clock;
    this.logger = logger;
  }

  /** Throws the IdP's last error while `provider` is in a pause; otherwise lets this refresh try. */
  enter(provider: string): () => void {
    const outage = this.outages.get(provider);
    if (!outage) return () => undefined;
    if (outage.probing || this.clock() < outage.until) {
      throw new OidcError(outage.error.code, 'The IdP failed recently; not calling it again yet (refresh backing off)', { cause: outage.error });
    }
    outage.probing = true;
    return () => {
      outage.probing = false;
    };
  }

  failed(provider: string, error: OidcError): void {
    const outage = this.outages.get(provider);
    const failures = (outage?.failures ?? 0) + 1;
    const until = this.clock() + Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** Math.min(failures - 1, 10));
    if (outage) {
      // Updated in place: the probe's release function holds this object.
      Object.assign(outage, { failures, until, error });
      return;
    }
    this.outages.set(provider, { failures, until, error, probing: false });
    this.logger.warn('oidc-session: the IdP failed to refresh tokens; logins stay valid with their current tokens, retrying with back-off', {
      provider,
      code: error.code,
    });
  }

  succeeded(provider: string): void {
    const outage = this.outages.get(provider);
    if (!outage) return;
    this.outages.delete(provider);
    this.logger.info('oidc-session: the IdP refreshes tokens again', { provider, failures: outage.failures });
  }
}
