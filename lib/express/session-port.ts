import type { Request } from 'express';
import { OidcError } from '../core/errors.js';
import type { OidcSessionData, SessionPort } from '../core/session-data.js';

type SessionCallback = (err?: unknown) => void;
interface ExpressSession {
  regenerate(callback: SessionCallback): unknown;
  save(callback: SessionCallback): unknown;
  destroy(callback: SessionCallback): unknown;
  [key: string]: unknown;
}

const MISSING_SESSION =
  'req.session is missing: mount express-session before oidc(), e.g. app.use(session({ secret, resave: false, saveUninitialized: false }))';

function sessionOf(req: Request): ExpressSession {
  const session = (req as unknown as { session?: ExpressSession }).session;
  if (!session) throw new OidcError('ERR_OIDC_NO_SESSION', MISSING_SESSION);
  return session;
}

function storeCall(req: Request, method: 'regenerate' | 'save' | 'destroy'): Promise<void> {
  return new Promise((resolve, reject) => {
    sessionOf(req)[method]((err?: unknown) => {
      if (!err) return resolve();
      reject(err instanceof OidcError ? err : new OidcError('ERR_OIDC_SESSION_STORE', `The session store failed to ${method} the session`, { cause: err }));
    });
  });
}

/**
 * express-session behind the core's Promise-based SessionPort. `req.session` is looked up on every call
 * because regenerate() replaces the object.
 */
export function expressSessionPort(req: Request, key: string): SessionPort {
  sessionOf(req);
  return {
    read: () => sessionOf(req)[key] as OidcSessionData | undefined,
    write: (data) => {
      const session = sessionOf(req);
      if (data === undefined) delete session[key];
      else session[key] = data;
    },
    regenerate: () => storeCall(req, 'regenerate'),
    save: () => storeCall(req, 'save'),
    destroy: () => storeCall(req, 'destroy'),
  };
}

export function readSessionData(req: Request, key: string): OidcSessionData | undefined {
  const session = (req as unknown as { session?: Record<string, unknown> }).session;
  return session?.[key] as OidcSessionData | undefined;
}
