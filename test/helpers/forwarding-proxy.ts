/**
 * A TLS-terminating reverse proxy in a few lines of node:http, as apps run behind one: the client talks to
 * the proxy, the proxy forwards to the app on loopback with X-Forwarded-Proto: https, X-Forwarded-Host
 * (the Host the client sent) and X-Forwarded-For, passing the client's Host on, as nginx's usual
 * `proxy_set_header` lines do.
 */
import { createServer, request } from 'node:http';
import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardingProxy {
  /** http://127.0.0.1:PORT of the proxy (what the client connects to). */
  url: string;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function shut(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

export async function startForwardingProxy(app: RequestListener): Promise<ForwardingProxy> {
  const upstream = createServer(app);
  const upstreamPort = await listen(upstream);
  const proxy = createServer((req, res) => {
    const headers = {
      ...req.headers,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': req.headers.host ?? '',
      'x-forwarded-for': req.socket.remoteAddress ?? '',
    };
    const forward = request({ host: '127.0.0.1', port: upstreamPort, method: req.method, path: req.url, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => {
      res.writeHead(502).end();
    });
    req.pipe(forward);
  });
  const port = await listen(proxy);
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      await shut(proxy);
      await shut(upstream);
    },
  };
}
