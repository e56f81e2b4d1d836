/**
 * Issue 13: without a `logger` option, each distinct warning is printed once (console.warn), and
 * `DEBUG=oidc-session:*` traces a login through the `debug` package, never printing a token, the
 * authorization code, the state, the PKCE verifier or the client secret (LEAK-02).
 */
import createDebug from 'debug';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDefaultLogger } from '../../lib/core/config/default-logger.js';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { createRpApp } from '../helpers/rp-app.js';
import { startLogin, storedAuths } from './support.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());
afterEach(() => {
  vi.restoreAllMocks();
  createDebug.disable();
});

describe('the default logger', () => {
  it('prints each distinct warning once, with the error code telling causes apart', () => {
    const lines: string[] = [];
    const logger = createDefaultLogger((line) => lines.push(line));
    logger.warn('oidc-session: login failed', { code: 'ERR_OIDC_INVALID_ID_TOKEN' });
    logger.warn('oidc-session: login failed', { code: 'ERR_OIDC_INVALID_ID_TOKEN' });
    logger.warn('oidc-session: login failed', { code: 'ERR_OIDC_ACCESS_DENIED' });
    logger.warn('oidc-session: no SameSite');
    logger.warn('oidc-session: no SameSite');
    logger.info('oidc-session: login', { sub: 'x' });
    expect(lines).toEqual([
      'oidc-session: login failed {"code":"ERR_OIDC_INVALID_ID_TOKEN"} (shown once; DEBUG=oidc-session:* for every occurrence and a trace)',
      'oidc-session: login failed {"code":"ERR_OIDC_ACCESS_DENIED"} (shown once; DEBUG=oidc-session:* for every occurrence and a trace)',
      'oidc-session: no SameSite (shown once; DEBUG=oidc-session:* for every occurrence and a trace)',
    ]);
  });

  it('is what oidc() uses without a logger: the cookie warning reaches console.warn once, not per request', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const rp = createRpApp({ issuer: op.issuer, logger: undefined });
    await request(rp.app).get('/');
    await request(rp.app).get('/');
    const sameSite = warn.mock.calls.filter(([line]) => String(line).includes('no SameSite attribute'));
    expect(sameSite).toHaveLength(1);
  });

  it('DEBUG=oidc-session:* traces a login without a token, code, state, verifier or secret', async () => {
    const trace: string[] = [];
    vi.spyOn(createDebug, 'log').mockImplementation((...args: unknown[]) => {
      trace.push(args.map(String).join(' '));
    });
    createDebug.enable('oidc-session:*');
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const rp = createRpApp({ issuer: op.issuer, scope: 'openid profile email offline_access', logger: undefined });
    const started = await startLogin(rp, op);
    const pending = JSON.stringify(await rp.sessions());
    const verifier = /"codeVerifier":"([^"]+)"/.exec(pending)?.[1];
    const callback = new URL(started.callbackUrl);
    await started.agent.get(started.callbackPath).expect(302);
    const [auth] = await storedAuths(rp);
    await started.agent.get('/logout').expect(302);
    expect(auth?.accessToken).toBeTruthy();
    const text = trace.join('\n');
    expect(text).toContain('oidc-session: login started');
    expect(text).toContain('oidc-session: discovered the IdP');
    expect(text).toContain('oidc-session: login');
    const secrets = [callback.searchParams.get('code'), callback.searchParams.get('state'), verifier, 'rp-secret', auth?.accessToken, auth?.idToken];
    for (const secret of secrets.filter((s): s is string => typeof s === 'string' && s.length > 0)) expect(text).not.toContain(secret);
    expect(verifier).toBeDefined();
  });
});
