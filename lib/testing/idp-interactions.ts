/**
 * Interaction routes of the test IdP (login form, consent), served as plain
 * node:http handlers next to oidc-provider's own routes.
 *
 *   GET  {path}/interaction/:uid          login page / consent page (or auto-consent)
 *   POST {path}/interaction/:uid/login    check credentials
 *   POST {path}/interaction/:uid/confirm  grant consent
 *   POST {path}/interaction/:uid/abort    deny (access_denied)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Interaction, InteractionResults, Provider } from 'oidc-provider';
import { consentPage, errorPage, loginPage } from './idp-pages.js';
import type { UserDirectory } from './idp-users.js';

export interface InteractionSettings {
  provider: Provider;
  /** issuer path prefix ('' or '/idp') */
  prefix: string;
  title: string;
  users: UserDirectory;
  autoConsent: boolean;
}

const MAX_BODY = 64 * 1024;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > MAX_BODY) throw new Error('request body too large');
    chunks.push(buf);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(html);
}

function isProviderError(err: unknown): err is Error & { status: number; error: string; error_description?: string } {
  return err instanceof Error && typeof (err as { status?: unknown }).status === 'number' && typeof (err as { error?: unknown }).error === 'string';
}

export function createInteractionHandler(settings: InteractionSettings) {
  const { provider, prefix, title, users, autoConsent } = settings;

  async function clientName(clientId: unknown): Promise<string> {
    if (typeof clientId !== 'string') return 'the application';
    const client = await provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  async function renderLogin(
    res: ServerResponse,
    details: Interaction,
    status: number,
    extra: { username?: string; error?: string } = {},
  ): Promise<void> {
    send(res, status, loginPage({
      title,
      action: `${prefix}/interaction/${details.uid}/login`,
      usersHint: users.hint(),
      clientName: await clientName(details.params.client_id),
      username: extra.username,
      error: extra.error,
    }));
  }

  /** Grant everything the consent prompt reports as missing; returns the consent result. */
  async function grantConsent(details: Interaction): Promise<NonNullable<InteractionResults['consent']>> {
    const accountId = details.session?.accountId;
    const clientId = details.params.client_id;
    if (!accountId || typeof clientId !== 'string') throw new Error('consent requested without a logged-in session');
    const missing = details.prompt.details;
    let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
    grant ??= new provider.Grant({ accountId, clientId });
    if (missing.missingOIDCScope?.length) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    if (missing.missingOIDCClaims?.length) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      if (scopes.length) grant.addResourceScope(indicator, scopes.join(' '));
    }
    const grantId = await grant.save();
    return details.grantId === grantId ? {} : { grantId };
  }

  async function route(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const match = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?\/?$/.exec(pathname);
    if (!match) {
      send(res, 404, errorPage({ error: 'not_found', error_description: `no route for ${pathname}` }));
      return;
    }
    const [, uid, action] = match;
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) {
      send(res, 400, errorPage({ error: 'invalid_request', error_description: 'interaction mismatch, start over from the application' }));
      return;
    }
    const prompt = details.prompt.name;

    if (action === undefined) {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, errorPage({ error: 'method_not_allowed' }));
        return;
      }
      if (prompt === 'login') {
        await renderLogin(res, details, 200);
        return;
      }
      if (prompt === 'consent') {
        if (autoConsent) {
          const consent = await grantConsent(details);
          await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
          return;
        }
        const missing = details.prompt.details;
        const scopes = [
          ...(missing.missingOIDCScope ?? []),
          ...(missing.missingOIDCClaims ?? []).map((c) => `claim: ${c}`),
          ...Object.entries(missing.missingResourceScopes ?? {}).flatMap(([rs, s]) => s.map((x) => `${x} (${rs})`)),
        ];
        send(res, 200, consentPage({
          title,
          action: `${prefix}/interaction/${details.uid}/confirm`,
          abortAction: `${prefix}/interaction/${details.uid}/abort`,
          clientName: await clientName(details.params.client_id),
          scopes,
        }));
        return;
      }
      send(res, 400, errorPage({ error: 'invalid_request', error_description: `unsupported prompt ${prompt}` }));
      return;
    }

    if (req.method !== 'POST') {
      send(res, 405, errorPage({ error: 'method_not_allowed' }));
      return;
    }

    if (action === 'abort') {
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
      return;
    }

    if (action === 'login') {
      if (prompt !== 'login') {
        send(res, 400, errorPage({ error: 'invalid_request', error_description: 'login is not expected now' }));
        return;
      }
      const form = await readForm(req);
      const username = form.get('username') ?? '';
      const password = form.get('password') ?? '';
      const user = users.check(username, password);
      if (!user) {
        await renderLogin(res, details, 401, { username, error: 'Invalid username or password.' });
        return;
      }
      // A demo "second factor": a login that asked for acr_values=mfa is recorded as one.
      const askedForMfa = String(details.params.acr_values ?? '').split(' ').includes('mfa');
      await provider.interactionFinished(req, res, {
        login: { accountId: user.sub, acr: askedForMfa ? 'mfa' : 'pwd', amr: askedForMfa ? ['pwd', 'otp'] : ['pwd'] },
      }, { mergeWithLastSubmission: false });
      return;
    }

    // confirm
    if (prompt !== 'consent') {
      send(res, 400, errorPage({ error: 'invalid_request', error_description: 'consent is not expected now' }));
      return;
    }
    await readForm(req);
    const consent = await grantConsent(details);
    await provider.interactionFinished(req, res, { consent }, { mergeWithLastSubmission: true });
  }

  return async function handleInteraction(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    try {
      await route(req, res, pathname);
    } catch (err) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (isProviderError(err)) {
        send(res, err.status, errorPage({ error: err.error, error_description: err.error_description }));
      } else {
        send(res, 500, errorPage({ error: 'server_error', error_description: err instanceof Error ? err.message : String(err) }));
      }
    }
  };
}
