import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { httpFetch } from '../../lib/core/idp/http-fetch.js';
import { isTimeout } from '../../lib/core/idp/upstream-error.js';

const servers: Array<Server | NetServer> = [];
const sockets = new Set<Socket>();
function track(server: Server | NetServer): void {
  servers.push(server);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
}
// The transport keeps connections alive: they are cut here, or each close would wait for the idle timeout.
async function closeAll(): Promise<void> {
  const closing = servers.splice(0).map((s) => new Promise((r) => s.close(r)));
  for (const socket of sockets) socket.destroy();
  await Promise.all(closing);
}
afterEach(closeAll);

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<{ url: string; connections: () => number }> {
  let connections = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', () => connections++);
  track(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections };
}

const MANUAL: RequestInit = { redirect: 'manual' };

describe('httpFetch (the default transport for IdP requests)', () => {
  it('answers a GET with a WHATWG Response: status, every header, body, url', async () => {
    const { url } = await serve((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.setHeader('www-authenticate', 'DPoP error="use_dpop_nonce"');
      res.statusCode = 401;
      res.statusMessage = 'Unauthorized';
      res.end('{"error":"invalid_token"}');
    });
    const response = await httpFetch()(`${url}/userinfo`, { ...MANUAL, headers: { authorization: 'Bearer x' } });
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(401);
    expect(response.statusText).toBe('Unauthorized');
    expect(response.url).toBe(`${url}/userinfo`);
    expect(response.headers.get('www-authenticate')).toBe('DPoP error="use_dpop_nonce"');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(await response.json()).toEqual({ error: 'invalid_token' });
  });

  it('sends a form body with its type and length, and the headers given (Headers or a record)', async () => {
    const seen: Array<{ method?: string; headers: IncomingMessage['headers']; body: string }> = [];
    const { url } = await serve((req, res, body) => {
      seen.push({ method: req.method, headers: req.headers, body });
      res.end('{}');
    });
    const transport = httpFetch();
    await transport(`${url}/token`, { ...MANUAL, method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: 'a b' }), headers: new Headers({ 'X-Test': '1' }) });
    await transport(new URL(`${url}/token`), { ...MANUAL, method: 'post', body: 'raw', headers: { 'content-type': 'text/plain' } });
    expect(seen[0]).toMatchObject({ method: 'POST', body: 'grant_type=authorization_code&code=a+b' });
    expect(seen[0]?.headers).toMatchObject({ 'content-type': 'application/x-www-form-urlencoded;charset=UTF-8', 'content-length': '38', 'x-test': '1' });
    expect(seen[1]).toMatchObject({ method: 'POST', body: 'raw', headers: { 'content-type': 'text/plain', 'content-length': '3' } });
  });

  it('keeps the connection alive between requests', async () => {
    const { url, connections } = await serve((_req, res) => res.end('{}'));
    const transport = httpFetch();
    for (let i = 0; i < 3; i++) await (await transport(url, MANUAL)).text();
    expect(connections()).toBe(1);
  });

  it('gives 204 and HEAD answers no body', async () => {
    const { url } = await serve((req, res) => {
      res.statusCode = req.method === 'HEAD' ? 200 : 204;
      res.end();
    });
    const transport = httpFetch();
    expect((await transport(url, MANUAL)).body).toBeNull();
    expect((await transport(url, { ...MANUAL, method: 'HEAD' })).body).toBeNull();
  });

  it('refuses a body larger than maxBytes, declared or chunked', async () => {
    const { url } = await serve((req, res) => {
      if (req.url === '/declared') res.setHeader('content-length', '2000');
      res.write('x'.repeat(600));
      setTimeout(() => res.end('y'.repeat(req.url === '/declared' ? 1400 : 600)), 5);
    });
    const transport = httpFetch({ maxBytes: 1000 });
    await expect(transport(`${url}/declared`, MANUAL)).rejects.toMatchObject({ code: 'ERR_OIDC_RESPONSE_TOO_LARGE' });
    await expect(transport(`${url}/chunked`, MANUAL)).rejects.toMatchObject({ code: 'ERR_OIDC_RESPONSE_TOO_LARGE' });
    expect(await (await httpFetch({ maxBytes: 1200 })(`${url}/chunked`, MANUAL)).text()).toHaveLength(1200);
  });

  it('gives up on a hung IdP when the signal fires, with the signal reason (a TimeoutError)', async () => {
    const { url } = await serve(() => undefined);
    const started = Date.now();
    const err = await httpFetch()(url, { ...MANUAL, signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    expect(isTimeout(err)).toBe(true);
    expect(Date.now() - started).toBeLessThan(5000);
    const aborted = new AbortController();
    aborted.abort(new Error('gone'));
    await expect(httpFetch()(url, { ...MANUAL, signal: aborted.signal })).rejects.toThrow('gone');
  });

  it('reports an unreachable IdP as fetch does ("fetch failed", the socket error as cause)', async () => {
    const { url } = await serve(() => undefined);
    await closeAll();
    const err = await httpFetch()(url, MANUAL).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as Error).message).toBe('fetch failed');
    expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('sends a GET again once on a new connection when a kept-alive socket was closed as it was reused', async () => {
    // The first request on each connection is answered and kept alive; a second one on it is cut off unanswered.
    const requests: Array<[number, string]> = [];
    let connection = 0;
    const server = createNetServer((socket: Socket) => {
      const id = ++connection;
      let served = 0;
      socket.on('data', (data: Buffer) => {
        requests.push([id, data.toString('latin1').split(' ')[0] as string]);
        if (served++ === 0) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: keep-alive\r\n\r\n{}');
        else socket.destroy();
      });
    });
    track(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
    const transport = httpFetch();
    await (await transport(url, MANUAL)).text();
    expect(await (await transport(url, MANUAL)).json()).toEqual({});
    expect(requests).toEqual([[1, 'GET'], [1, 'GET'], [2, 'GET']]);
    // A token request is never sent twice: the IdP may have read it (a code, a rotating refresh token).
    await expect(transport(url, { ...MANUAL, method: 'POST', body: 'code=1' })).rejects.toThrow('fetch failed');
    expect(requests).toEqual([[1, 'GET'], [1, 'GET'], [2, 'GET'], [2, 'POST']]);
    // A fresh connection cut off is a failure, not sent again.
    const cut = createNetServer((socket: Socket) => socket.on('data', () => socket.destroy()));
    track(cut);
    await new Promise<void>((r) => cut.listen(0, '127.0.0.1', r));
    await expect(httpFetch()(`http://127.0.0.1:${(cut.address() as AddressInfo).port}/`, MANUAL)).rejects.toThrow('fetch failed');
  });

  it('takes a HEAD answer at its word (no body, whatever length it declares) and gives 205 no body', async () => {
    const { url } = await serve((req, res) => {
      if (req.method === 'HEAD') {
        res.setHeader('content-length', '5000');
        return res.end();
      }
      res.statusCode = 205;
      res.end();
    });
    const transport = httpFetch({ maxBytes: 1000 });
    expect((await transport(url, { ...MANUAL, method: 'HEAD' })).headers.get('content-length')).toBe('5000');
    const reset = await transport(url, MANUAL);
    expect(reset.status).toBe(205);
    expect(reset.body).toBeNull();
  });

  it('leaves what it does not take to the fallback: redirects followed, Request objects, streamed bodies', async () => {
    const calls: unknown[] = [];
    const fallback = (async (input: unknown) => {
      calls.push(input);
      return new Response('fallback');
    }) as typeof fetch;
    const transport = httpFetch({ fallback });
    await transport('http://127.0.0.1:1/a');
    await transport('http://127.0.0.1:1/b', { redirect: 'follow' });
    await transport(new Request('http://127.0.0.1:1/c'), MANUAL);
    await transport('http://127.0.0.1:1/d', { ...MANUAL, method: 'POST', body: new Blob(['x']) });
    await transport('http://user:secret@127.0.0.1:1/e', MANUAL);
    expect(calls).toHaveLength(5);
  });

  it("bounds the fallback's bodies too", async () => {
    const fallback = (async () => new Response('x'.repeat(2000))) as typeof fetch;
    await expect(httpFetch({ fallback, maxBytes: 1000 })('http://127.0.0.1:1/', { redirect: 'follow' })).rejects.toMatchObject({ code: 'ERR_OIDC_RESPONSE_TOO_LARGE' });
  });
});
