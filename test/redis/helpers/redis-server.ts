import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A redis-server of the test's own, on a free loopback port, that the outage tests stop and start at
 * will. Stopping the shared 127.0.0.1:6379 instead would break every other test file running in
 * parallel. It persists to a temporary directory on SHUTDOWN SAVE, like a production Redis would, so
 * sessions survive the restart.
 */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** A real stop: SHUTDOWN SAVE, then wait for the process to exit. */
  stop(): Promise<void>;
  /** Start it again on the same port and wait until it answers PING. */
  start(): Promise<void>;
  /** Sends one command (inline protocol) on a fresh connection and returns the raw reply. */
  command(line: string): Promise<string>;
  /** Always safe to call (afterAll): kills the process if it runs, removes the directory. */
  dispose(): Promise<void>;
}

const INSTALL_HINT = 'redis-server is needed for the outage tests: apt-get install redis-server (.ci/run does this)';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function send(port: number, line: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no reply to ${line} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(line + '\r\n'));
    socket.on('data', (chunk: string) => {
      reply += chunk;
      if (reply.endsWith('\r\n')) {
        clearTimeout(timer);
        socket.end();
        resolve(reply.trim());
      }
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(reply.trim());
    });
  });
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'oidc-session-redis-'));
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const running = () => proc !== undefined && proc.exitCode === null && proc.signalCode === null;
  const start = async () => {
    if (running()) return;
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--dbfilename', 'dump.rdb'], {
      stdio: 'ignore',
    });
    proc = child;
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 5000;
    for (;;) {
      if (spawnError) throw new Error(`${INSTALL_HINT} (${spawnError.message})`);
      if (await send(port, 'PING', 200).then((r) => r === '+PONG', () => false)) return;
      if (!running() && child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode} on port ${port}`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const stop = async () => {
    if (!running()) return;
    await send(port, 'SHUTDOWN SAVE', 5000).catch(() => undefined);
    const timer = setTimeout(() => proc?.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    command: (line) => send(port, line, 5000),
    async dispose() {
      if (running()) {
        proc!.kill('SIGKILL');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
