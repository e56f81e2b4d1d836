/** Starts a server under test in its own process (pinned to core 0 when asked) and talks to it over IPC. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { ChildSpec, Command, CpuSnapshot, Hello, Reply } from './protocol.js';

/** A server under valgrind (bench/diagnose.ts) on a busy shared machine can take many minutes to start. */
const SLOW = process.env.DIAG_INSTRUCTIONS === '1';
const START_TIMEOUT_MS = SLOW ? 1_800_000 : 120_000;
const COMMAND_TIMEOUT_MS = SLOW ? 1_800_000 : 120_000;

export interface ChildOptions {
  /** Prefix the command with `taskset -c <core>`. */
  core: number | undefined;
  cpuProfDir: string | undefined;
  /** Run node under this command instead (e.g. valgrind for instruction counts; bench/diagnose.ts). */
  wrapper?: string[];
  /** More flags for node (e.g. V8's --log-ic; bench/diagnose.ts). */
  nodeFlags?: string[];
}

export interface ServerChild {
  readonly spec: ChildSpec;
  readonly pid: number;
  readonly baseUrl: string;
  request<T = unknown>(command: Command): Promise<T>;
  cpu(): Promise<CpuSnapshot>;
  close(): Promise<void>;
}

export async function startChild(spec: ChildSpec, options: ChildOptions): Promise<ServerChild> {
  const node = [
    '--import', 'tsx', '--expose-gc', ...(options.nodeFlags ?? []),
    // one directory per server: Node writes a profile per thread (the tsx loader thread has its own)
    ...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, spec.name)}`] : []),
    join(import.meta.dirname, 'server.ts'), JSON.stringify(spec),
  ];
  const line = [...(options.wrapper ?? []), process.execPath, ...node];
  const [command, args] = options.core === undefined ? [line[0] as string, line.slice(1)] : ['taskset', ['-c', String(options.core), ...line]];
  const proc: ChildProcess = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: process.cwd() });
  const pending = new Map<number, { resolve(value: unknown): void; reject(err: Error): void; timer: NodeJS.Timeout }>();
  let nextId = 1;

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${spec.name}: the server did not start within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
    proc.once('exit', (code) => reject(new Error(`${spec.name}: the server exited during start (code ${code})`)));
    proc.once('error', reject);
    proc.on('message', (message: Hello | Reply) => {
      if ('hello' in message) {
        clearTimeout(timer);
        resolve(message.port);
        return;
      }
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      clearTimeout(waiter.timer);
      if (message.ok) waiter.resolve(message.result);
      else waiter.reject(new Error(`${spec.name}: ${message.error}`));
    });
  });
  proc.on('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${spec.name}: the server exited (code ${code})`));
    pending.clear();
  });

  const request = <T>(command: Command): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${spec.name}: no answer to ${command.cmd} within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      proc.send({ id, command });
    });

  return {
    spec,
    pid: proc.pid as number,
    baseUrl: `http://127.0.0.1:${port}`,
    request,
    cpu: () => request<CpuSnapshot>({ cmd: 'cpu' }),
    close: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const timer = setTimeout(() => {
          proc.kill('SIGKILL');
          resolve();
        }, 5000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}
