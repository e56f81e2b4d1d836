/**
 * Hostile fake OpenID Provider for negative protocol tests.
 *
 * A plain node:http server on 127.0.0.1 (random port) that behaves like a correct OP by default
 * and misbehaves on demand through the mutable `op.behaviour` object. See hostile-op-types.ts for
 * every switch and its default.
 *
 *   const op = await startHostileOp({ clientId: 'rp', clientSecret: 's3cret' });
 *   op.behaviour.idToken = { claims: { aud: 'someone-else' } };
 *   ...
 *   op.reset();          // beforeEach / afterEach
 *   await op.close();    // afterAll: destroys open sockets, wakes pending delays
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { KeyRing } from './hostile-op-keys.js';
import { handleAuthorize, handleEndSession, handleJwks, handleRevocation, handleUserinfo } from './hostile-op-endpoints.js';
import { send, sendJson, sleep, trickle } from './hostile-op-http.js';
import type { OpState } from './hostile-op-http.js';
import { handleToken } from './hostile-op-token.js';
import { defaultBehaviour } from './hostile-op-types.js';
import type { CapturedRequest, EndpointName, HostileOp, HostileOpOptions } from './hostile-op-types.js';

export type * from './hostile-op-types.js';
export { defaultBehaviour } from './hostile-op-types.js';

const ROUTES: Record<string, EndpointName> = {
  '/.well-known/openid-configuration': 'discovery',
  '/jwks': 'jwks',
  '/authorize': 'authorization',
  '/token': 'token',
  '/userinfo': 'userinfo',
  '/revoke': 'revocation',
  '/end_session': 'end_session',
};

function metadata(state: OpState): Record<string, unknown> {
  const i = state.issuer;
  return {
    issuer: i,
    authorization_endpoint: `${i}/authorize`,
    token_endpoint: `${i}/token`,
    userinfo_endpoint: `${i}/userinfo`,
    jwks_uri: `${i}/jwks`,
    revocation_endpoint: `${i}/revoke`,
    end_session_endpoint: `${i}/end_session`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'sid', 'name', 'email'],
    id_token_signing_alg_values_supported: ['RS256'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    backchannel_logout_supported: true,
    backchannel_logout_session_supported: true,
    ...state.behaviour.discoveryOverrides, // undefined values vanish in JSON.stringify
  };
}

async function route(state: OpState, requests: CapturedRequest[], req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');
  const url = new URL(req.url ?? '/', state.issuer);
  const endpoint = ROUTES[url.pathname] ?? 'unknown';
  requests.push({ endpoint, method: req.method ?? '', url: url.href, headers: { ...req.headers }, body });
  if (endpoint !== 'unknown') state.counters[endpoint] += 1;
  const b = state.behaviour;
  switch (endpoint) {
    case 'discovery':
      await sleep(state, b.discoveryDelayMs, res);
      if (state.closed) return;
      if (b.discoveryTrickleMs > 0) return trickle(state, res, b.discoveryTrickleMs, 'application/json');
      if (b.discoveryBody !== undefined) return send(res, b.discoveryStatus, b.discoveryBody, 'application/json');
      if (b.discoveryStatus !== 200) return send(res, b.discoveryStatus, 'hostile-op: discovery failure');
      return sendJson(res, 200, metadata(state));
    case 'jwks':
      return handleJwks(state, res);
    case 'authorization':
      return handleAuthorize(state, url, res);
    case 'token':
      if (req.method !== 'POST') return send(res, 405, 'method not allowed');
      return handleToken(state, req.headers, body, res);
    case 'userinfo':
      return handleUserinfo(state, req, body, res);
    case 'revocation':
      return handleRevocation(state, req, body, res);
    case 'end_session':
      return handleEndSession(state, req, url, body, res);
    case 'unknown':
      return send(res, 404, 'not found');
  }
}

export async function startHostileOp(options: HostileOpOptions): Promise<HostileOp> {
  const keys = await KeyRing.create(options.clientSecret);
  const sockets = new Set<Socket>();
  const requests: CapturedRequest[] = [];
  const state: OpState = {
    issuer: '',
    options,
    keys,
    behaviour: defaultBehaviour(),
    counters: { discovery: 0, jwks: 0, authorization: 0, token: 0, userinfo: 0, revocation: 0, end_session: 0 },
    loginsByCode: new Map(),
    logins: [],
    tokenCalls: [],
    accessTokens: new Map(),
    refreshTokens: new Map(),
    revocations: [],
    endSessions: [],
    sleepers: new Set(),
    closed: false,
  };

  const server = createServer((req, res) => {
    route(state, requests, req, res).catch((err: unknown) => {
      send(res, 500, `hostile-op internal error: ${err instanceof Error ? err.stack : String(err)}`);
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  state.issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const op: HostileOp = {
    issuer: state.issuer,
    behaviour: state.behaviour,
    counters: state.counters,
    requests,
    logins: state.logins,
    tokenCalls: state.tokenCalls,
    revocations: state.revocations,
    endSessions: state.endSessions,
    reset() {
      // in place, so references held by tests stay valid
      const fresh = defaultBehaviour();
      for (const k of Object.keys(state.behaviour)) delete (state.behaviour as unknown as Record<string, unknown>)[k];
      Object.assign(state.behaviour, fresh);
      for (const k of Object.keys(state.counters) as Array<keyof typeof state.counters>) state.counters[k] = 0;
      for (const list of [requests, state.logins, state.tokenCalls, state.revocations, state.endSessions]) list.length = 0;
    },
    async authorize(authorizationUrl) {
      const res = await fetch(String(authorizationUrl), { redirect: 'manual' });
      const location = res.headers.get('location');
      const text = await res.text();
      if (res.status < 300 || res.status > 399 || !location) {
        throw new Error(`hostile-op authorize: expected a redirect, got ${res.status}: ${text}`);
      }
      return location;
    },
    sign(payload, header = {}) {
      const alg = header.alg ?? (header.key === 'es' ? 'ES256' : header.key === 'secret' ? 'HS256' : 'RS256');
      return keys.mint(payload, { alg, key: header.key, kid: header.kid, typ: header.typ });
    },
    rotateKeys: () => keys.rotate(),
    currentKid: () => keys.rs.kid,
    async close() {
      if (state.closed) return;
      state.closed = true;
      for (const wake of [...state.sleepers]) wake();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  // a test may assign `op.behaviour = {...}`: keep the server reading whatever the test set
  Object.defineProperty(op, 'behaviour', {
    enumerable: true,
    get: () => state.behaviour,
    set: (v: HostileOp['behaviour']) => {
      state.behaviour = v;
    },
  });
  return op;
}
