/** Token endpoint and ID token minting for the hostile fake OP. */
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { MintOptions } from './hostile-op-keys.js';
import {
  authenticateClient,
  now,
  oauthError,
  parseForm,
  random,
  s256,
  send,
  sleep,
  trickle,
} from './hostile-op-http.js';
import type { IssuedToken, OpState } from './hostile-op-http.js';
import type { IdTokenMutation, TokenCall } from './hostile-op-types.js';

interface Subject {
  clientId: string;
  sub: string;
  sid: string;
  authTime: number;
  scope: string | undefined;
  code: string;
}

export async function mintIdToken(
  state: OpState,
  subject: Subject,
  nonce: string | undefined,
  m: IdTokenMutation,
): Promise<string> {
  const iat = now();
  const claims: Record<string, unknown> = {
    iss: state.issuer,
    sub: subject.sub,
    aud: subject.clientId,
    exp: iat + 3600,
    iat,
    auth_time: subject.authTime,
    sid: subject.sid,
    name: 'Test User',
    email: `${subject.sub}@example.test`,
  };
  if (nonce !== undefined) claims.nonce = nonce;
  for (const [k, v] of Object.entries(m.claims ?? {})) {
    if (v === undefined) delete claims[k];
    // defineProperty, so a "__proto__" claim becomes an own JSON member instead of the object's prototype
    else Object.defineProperty(claims, k, { value: v, enumerable: true, writable: true, configurable: true });
  }
  const alg = m.alg ?? 'RS256';
  const opts: MintOptions = {
    alg,
    kid: m.kid,
    typ: m.typ === undefined ? 'JWT' : m.typ,
    crit: m.crit,
    badSignature: m.badSignature,
    extraHeader: m.header,
  };
  if (m.customKey) {
    opts.customKey = m.customKey.privateKey;
    opts.kid = m.kid === undefined ? (m.customKey.kid ?? null) : m.kid;
  } else if (alg === 'HS256') {
    opts.key = m.hs256Key === 'public_key' || m.hs256Key === 'public_key_jwk' ? 'rs' : 'secret';
    opts.hsPublicAsJwk = m.hs256Key === 'public_key_jwk';
  } else if (alg === 'RS256') {
    opts.key = m.signWith === 'other-rs' ? 'other-rs' : m.signWith === 'previous' ? 'previous-rs' : 'rs';
  } else if (alg === 'ES256') {
    opts.key = 'es';
  }
  return state.keys.mint(claims, opts);
}

async function issueTokens(
  state: OpState,
  res: ServerResponse,
  subject: Subject,
  idToken: { nonce: string | undefined; mutation: IdTokenMutation } | undefined,
  withRefresh: boolean,
): Promise<void> {
  const b = state.behaviour;
  const accessToken = random('at-');
  const issued: IssuedToken = { ...subject, exp: now() + b.accessTokenTtl };
  state.accessTokens.set(accessToken, issued);
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: b.tokenType,
    expires_in: b.accessTokenTtl,
  };
  if (subject.scope !== undefined) body.scope = subject.scope;
  if (withRefresh) {
    const rt = random('rt-');
    state.refreshTokens.set(rt, { ...issued, exp: Number.MAX_SAFE_INTEGER });
    body.refresh_token = rt;
  }
  const openid = subject.scope === undefined || subject.scope.split(' ').includes('openid');
  if (idToken && openid && !b.omitIdToken) {
    body.id_token = await mintIdToken(state, subject, idToken.nonce, idToken.mutation);
  }
  Object.assign(body, b.tokenExtra); // undefined values vanish in JSON.stringify
  send(res, 200, JSON.stringify(body), b.tokenContentType, b.tokenHeaders);
}

export async function handleToken(
  state: OpState,
  headers: IncomingHttpHeaders,
  rawBody: string,
  res: ServerResponse,
): Promise<void> {
  const b = state.behaviour;
  await sleep(state, b.tokenDelayMs, res);
  if (state.closed) return;
  if (b.tokenTrickleMs > 0) return trickle(state, res, b.tokenTrickleMs, b.tokenContentType);
  if (b.tokenBody !== undefined) return send(res, b.tokenStatus, b.tokenBody, b.tokenContentType, b.tokenHeaders);
  if (b.tokenStatus !== 200) return send(res, b.tokenStatus, 'hostile-op: token endpoint failure', undefined, b.tokenHeaders);

  const params = parseForm(rawBody);
  const auth = authenticateClient(state, headers, params);
  const call: TokenCall = { grantType: params.grant_type ?? '', clientAuth: auth.method, params, result: 'ok' };
  state.tokenCalls.push(call);
  const fail = (status: number, error: string, description: string, extra: Record<string, string> = {}): void => {
    call.result = error;
    oauthError(res, status, error, description, extra);
  };
  if (!auth.ok) {
    return fail(401, 'invalid_client', auth.description, auth.basic ? { 'www-authenticate': 'Basic realm="hostile-op"' } : {});
  }

  if (params.grant_type === 'authorization_code') {
    const login = params.code ? state.loginsByCode.get(params.code) : undefined;
    if (!login) return fail(400, 'invalid_grant', 'unknown authorization code');
    if (login.used) {
      // RFC 6749 §4.1.2: revoke what the code already produced
      for (const map of [state.accessTokens, state.refreshTokens]) {
        for (const [t, info] of map) if (info.code === login.code) map.delete(t);
      }
      return fail(400, 'invalid_grant', 'authorization code already used');
    }
    login.used = true;
    if (login.clientId !== auth.clientId) return fail(400, 'invalid_grant', 'code was issued to another client');
    if (params.redirect_uri !== login.redirectUri) return fail(400, 'invalid_grant', 'redirect_uri mismatch');
    const verifier = params.code_verifier;
    if (login.codeChallenge !== undefined) {
      if (verifier === undefined) return fail(400, 'invalid_grant', 'code_verifier required');
      const method = login.codeChallengeMethod ?? 'plain';
      const computed = method === 'S256' ? s256(verifier) : method === 'plain' ? verifier : undefined;
      if (computed !== login.codeChallenge) return fail(400, 'invalid_grant', 'PKCE verification failed');
    } else if (verifier !== undefined) {
      return fail(400, 'invalid_grant', 'code_verifier sent but no code_challenge was used');
    } else if (b.requirePkce) {
      return fail(400, 'invalid_grant', 'PKCE required');
    }
    const { clientId, sub, sid, authTime, scope, code } = login;
    const subject: Subject = { clientId, sub, sid, authTime, scope, code };
    return issueTokens(state, res, subject, { nonce: login.nonce, mutation: b.idToken }, b.issueRefreshToken);
  }

  if (params.grant_type === 'refresh_token') {
    if (b.refreshError !== undefined) return fail(400, b.refreshError, 'refresh refused by behaviour.refreshError');
    const rt = params.refresh_token;
    const info = rt ? state.refreshTokens.get(rt) : undefined;
    if (!rt || !info) return fail(400, 'invalid_grant', 'unknown or rotated refresh token');
    if (info.clientId !== auth.clientId) return fail(400, 'invalid_grant', 'refresh token issued to another client');
    if (b.rotateRefreshToken) state.refreshTokens.delete(rt);
    const idToken = b.refreshIssueIdToken ? { nonce: undefined, mutation: b.refreshIdToken } : undefined;
    const { clientId, sub, sid, authTime, scope, code } = info;
    return issueTokens(state, res, { clientId, sub, sid, authTime, scope, code }, idToken, b.rotateRefreshToken && b.issueRefreshToken);
  }

  return fail(400, 'unsupported_grant_type', `unsupported grant_type ${params.grant_type ?? '(none)'}`);
}
