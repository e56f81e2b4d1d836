/**
 * Child process entry: one server under test on 127.0.0.1:0. It reports its port, waits for the IdP's
 * address, builds the app, then answers the runner's commands over IPC (CPU counters, clock offset,
 * stored sessions...). Run with `node --import tsx bench/server.ts '<ChildSpec JSON>'`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import { buildEocApp, buildOursApp } from './apps.js';
import { buildDiagApp } from './diag-app.js';
import type { BuiltApp } from './apps.js';
import type { ChildSpec, CpuSnapshot, Hello, Reply, Request } from './protocol.js';

const spec = JSON.parse(process.argv[2] ?? '{}') as ChildSpec;
if (!process.send) throw new Error('bench/server.ts runs as a child of bench/run.ts (needs an IPC channel)');
const send = process.send.bind(process);

let requests = 0;
let handler: RequestListener = (_req, res) => {
  res.statusCode = 503;
  res.end('not configured');
};
let built: BuiltApp | undefined;

const server = createServer((req, res) => {
  requests += 1;
  handler(req, res);
});
server.keepAliveTimeout = 60_000;

function snapshot(): CpuSnapshot {
  const usage = process.cpuUsage();
  return { cpuMicros: usage.user + usage.system, systemMicros: usage.system, requests, wallNanos: Number(process.hrtime.bigint()) };
}

async function run(request: Request): Promise<unknown> {
  const { command } = request;
  switch (command.cmd) {
    case 'configure':
      built = spec.kind === 'ours' ? await buildOursApp(spec, command) : spec.kind === 'eoc' ? await buildEocApp(spec, command) : await buildDiagApp(spec, command);
      handler = built.handler;
      return true;
    case 'cpu':
      return snapshot();
    case 'gc':
      (globalThis as { gc?: () => void }).gc?.();
      return true;
    default:
      if (!built) throw new Error('not configured');
      return built.handle(command);
  }
}

process.on('message', (message: Request) => {
  run(message).then(
    (result) => send({ id: message.id, ok: true, result } satisfies Reply),
    (err: unknown) => send({ id: message.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) } satisfies Reply),
  );
});

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  server.closeAllConnections();
  server.close();
  void (built?.close() ?? Promise.resolve()).finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('disconnect', shutdown);
process.on('SIGTERM', shutdown);

server.listen(0, '127.0.0.1', () => {
  send({ hello: 'listening', port: (server.address() as AddressInfo).port } satisfies Hello);
});
