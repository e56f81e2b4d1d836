import { OidcError } from '../errors.js';

/**
 * A session store call that failed, as both adapters report it: an OidcError the store wrapper already
 * made (503 from resilientStore()) passes as it is; anything else becomes ERR_OIDC_SESSION_STORE.
 */
export function sessionStoreError(action: 'read' | 'save' | 'regenerate' | 'destroy', err: unknown): OidcError {
  return err instanceof OidcError ? err : new OidcError('ERR_OIDC_SESSION_STORE', `The session store failed to ${action} the session`, { cause: err });
}
