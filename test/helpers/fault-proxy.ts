import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * A TCP proxy on loopback in front of an IdP, to put real transport faults between the RP and it:
 * - `pass`: bytes flow both ways;
 * - `refuse`: the listener is closed, so connections are refused (ECONNREFUSED), as with a stopped IdP;
 * - `hold`: connections are accepted and what the client sends is kept, but nothing reaches the IdP until
 *   `resume()`: then it is delivered, even for clients that gave up meanwhile, so the IdP processes it
 *   (rotating a refresh token, say) and its answer is lost for them. That is a paused (SIGSTOP) process.
 * The RP reaches it through an injected fetch (`rewrite()`), so the issuer stays the IdP's own URL.
 */
export interface FaultProxy {
  readonly origin: string;
  mode: 'pass' | 'refuse' | 'hold';
  refuse(): Promise<void>;
  hold(): Promise<void>;
  /** Back to `pass`; requests held meanwhile are delivered to the IdP. */
  resume(): Promise<void>;
  /** Connections accepted so far (held ones included). */
  readonly connections: number;
  /** A fetch that sends requests for `upstream` (an origin) through the proxy. */
  fetchVia(upstream: string): typeof fetch;
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const pending = new Set<() => void>();
  let connections = 0;
  let server: Server | undefined;
  let port = 0;
  const ownHost = (): RegExp => new RegExp(`host: 127\\.0\\.0\\.1:${port}`, 'gi');

  const onConnection = (client: Socket): void => {
    connections += 1;
    sockets.add(client);
    const out = connect(Number(upstream.port), upstream.hostname);
    sockets.add(out);
    let clientGone = false;
    client.on('error', () => undefined);
    out.on('error', () => client.destroy());
    client.on('close', () => {
      sockets.delete(client);
      clientGone = true;
      // Nothing held for the IdP: the connection can go.
      if (!pending.has(deliver)) out.destroy();
    });
    out.on('close', () => {
      sockets.delete(out);
      client.destroy();
    });
    out.on('data', (chunk) => {
      if (clientGone) {
        // The client gave up: the IdP processed the request and answers into the void.
        out.destroy();
        return;
      }
      client.write(chunk);
    });
    // Bytes from the client pass while the proxy passes; in `hold` they wait for resume() (any connection,
    // including kept-alive ones opened before the hold).
    const queue: Buffer[] = [];
    // fetch will not send another Host; the IdP must still see its own (oidc-provider builds its endpoint URLs from it).
    const toUpstream = (chunk: Buffer): Buffer => Buffer.from(chunk.toString('latin1').replace(ownHost(), `host: ${upstream.host}`), 'latin1');
    const deliver = (): void => {
      pending.delete(deliver);
      for (const chunk of queue.splice(0)) out.write(toUpstream(chunk));
      if (clientGone) setTimeout(() => out.destroy(), 10_000).unref();
    };
    client.on('data', (chunk: Buffer) => {
      if (proxy.mode === 'hold' || pending.has(deliver)) {
        queue.push(chunk);
        pending.add(deliver);
      } else {
        out.write(toUpstream(chunk));
      }
    });
  };

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const next = createServer(onConnection);
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        port = (next.address() as AddressInfo).port;
        server = next;
        resolve();
      });
    });
  const stopListening = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server) return resolve();
      const closing = server;
      server = undefined;
      closing.close(() => resolve());
      // close() waits for open connections: a stopped process has none.
      for (const socket of sockets) socket.destroy();
    });

  await listen();
  const proxy: FaultProxy = {
    origin: `http://127.0.0.1:${port}`,
    mode: 'pass',
    get connections() {
      return connections;
    },
    async refuse() {
      proxy.mode = 'refuse';
      await stopListening();
      for (const socket of sockets) socket.destroy();
    },
    async hold() {
      if (!server) await listen();
      proxy.mode = 'hold';
    },
    async resume() {
      if (!server) await listen();
      proxy.mode = 'pass';
      for (const deliver of [...pending]) deliver();
    },
    fetchVia(origin) {
      const from = new URL(origin).origin;
      return (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        return fetch(url.startsWith(from) ? proxy.origin + url.slice(from.length) : url, init);
      };
    },
    async close() {
      pending.clear();
      await stopListening();
      for (const socket of sockets) socket.destroy();
    },
  };
  return proxy;
}
