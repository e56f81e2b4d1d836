/** Authorization, userinfo, JWKS, revocation and end_session endpoints of the hostile fake OP. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { authenticateClient, now, oauthError, parseForm, random, redirect, send, sendJson, sleep } from './hostile-op-http.js';
import type { OpState } from './hostile-op-http.js';
import type { LoginRecord } from './hostile-op-types.js';

export function handleAuthorize(state: OpState, url: URL, res: ServerResponse): void {
  const b = state.behaviour;
  const q = url.searchParams;
  const redirectUri = q.get('redirect_uri');
  const reqState = q.get('state');
  let target: URL;
  try {
    if (!redirectUri || !reqState) throw new Error('redirect_uri and state are required');
    target = new URL(redirectUri);
  } catch (err) {
    return send(res, 400, `hostile-op: ${(err as Error).message}`);
  }
  const p = target.searchParams;
  if (b.authorizeError) {
    for (const [k, v] of Object.entries(b.authorizeError)) if (v !== undefined) p.set(k, v);
  } else {
    const login: LoginRecord = {
      code: random('code-'),
      clientId: q.get('client_id') ?? '',
      redirectUri,
      state: reqState,
      nonce: q.get('nonce') ?? undefined,
      scope: q.get('scope') ?? undefined,
      codeChallenge: q.get('code_challenge') ?? undefined,
      codeChallengeMethod: q.get('code_challenge_method') ?? undefined,
      sub: b.sub,
      sid: random('sid-'),
      authTime: now(),
      used: false,
    };
    state.logins.push(login);
    state.loginsByCode.set(login.code, login);
    p.set('code', login.code);
  }
  if (b.stateParam === 'echo') p.set('state', reqState);
  else if (b.stateParam === 'wrong') p.set('state', random('forged-state-'));
  if (b.issParam === 'correct') p.set('iss', state.issuer);
  else if (b.issParam === 'wrong') p.set('iss', 'https://attacker.example');
  for (const [k, v] of Object.entries(b.extraCallbackParams)) p.set(k, v);
  redirect(res, target.href);
}

export async function handleUserinfo(state: OpState, req: IncomingMessage, body: string, res: ServerResponse): Promise<void> {
  const b = state.behaviour;
  await sleep(state, b.userinfoDelayMs, res);
  if (state.closed) return;
  if (b.userinfoBody !== undefined) return send(res, b.userinfoStatus, b.userinfoBody, b.userinfoContentType, b.userinfoHeaders);
  if (b.userinfoStatus !== 200) return send(res, b.userinfoStatus, 'hostile-op: userinfo failure', undefined, b.userinfoHeaders);
  const authz = req.headers.authorization;
  const token = authz && /^bearer /i.test(authz) ? authz.slice(7).trim() : parseForm(body).access_token;
  const info = token ? state.accessTokens.get(token) : undefined;
  if (!info || info.exp <= now()) {
    return send(res, 401, '', 'text/plain', { 'www-authenticate': 'Bearer error="invalid_token"' });
  }
  const claims = {
    sub: b.userinfoSub ?? info.sub,
    name: 'Test User',
    email: `${info.sub}@example.test`,
    email_verified: true,
    ...b.userinfoClaims,
  };
  send(res, 200, JSON.stringify(claims), b.userinfoContentType);
}

export async function handleJwks(state: OpState, res: ServerResponse): Promise<void> {
  const b = state.behaviour;
  await sleep(state, b.jwksDelayMs, res);
  if (state.closed) return;
  if (b.jwksBody !== undefined) return send(res, b.jwksStatus, b.jwksBody, 'application/json');
  if (b.jwksStatus !== 200) return send(res, b.jwksStatus, 'hostile-op: jwks failure');
  const jwks = state.keys.jwks(b.jwksIncludeEs, b.jwksIncludePrevious);
  sendJson(res, 200, { keys: [...jwks.keys, ...b.jwksExtraKeys] }, 'application/jwk-set+json');
}

export function handleRevocation(state: OpState, req: IncomingMessage, body: string, res: ServerResponse): void {
  const params = parseForm(body);
  const auth = authenticateClient(state, req.headers, params);
  if (!auth.ok) return oauthError(res, 401, 'invalid_client', auth.description);
  const token = params.token ?? '';
  state.revocations.push({ token, token_type_hint: params.token_type_hint });
  state.accessTokens.delete(token);
  state.refreshTokens.delete(token);
  const status = state.behaviour.revocationStatus;
  if (status !== 200) return send(res, status, 'hostile-op: revocation failure');
  send(res, 200, '');
}

export function handleEndSession(state: OpState, req: IncomingMessage, url: URL, body: string, res: ServerResponse): void {
  const params = req.method === 'POST' ? parseForm(body) : Object.fromEntries(url.searchParams);
  state.endSessions.push(params);
  const target = params.post_logout_redirect_uri;
  if (state.behaviour.endSessionRedirect && target) {
    const u = new URL(target);
    if (params.state !== undefined) u.searchParams.set('state', params.state);
    return redirect(res, u.href);
  }
  send(res, 200, '<!doctype html><title>Logged out</title><p>You have been logged out.</p>', 'text/html; charset=utf-8');
}
