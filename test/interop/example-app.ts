/**
 * The example app as a user runs it: `node --import tsx example-app/server.ts` (Express) or
 * `example-app/koa-server.ts` (Koa), configured through the environment only.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type Adapter = 'express' | 'koa';
export const ADAPTERS: readonly Adapter[] = ['express', 'koa'];

const ROOT = join(import.meta.dirname, '..', '..');
const ENTRY: Record<Adapter, string> = { express: 'example-app/server.ts', koa: 'example-app/koa-server.ts' };

/** The test runner's environment without what would configure the app (vite sets BASE_URL, for one). */
function inherited(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) {
    if (/^(OIDC_|BASE_URL$|PORT$|REDIS_URL$|SESSION_SECRET$)/.test(name)) delete env[name];
  }
  return env;
}

export interface RunningApp {
  url: string;
  /** Everything the app printed so far (stdout and stderr). */
  output(): string;
  close(): Promise<void>;
}

/** `env` must have PORT; the app listens on 127.0.0.1 there. */
export async function startApp(adapter: Adapter, env: Record<string, string>): Promise<RunningApp> {
  const url = `http://127.0.0.1:${env.PORT}`;
  let output = '';
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', ENTRY[adapter]], {
    cwd: ROOT,
    env: { ...inherited(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const close = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
  };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    const up = await fetch(`${url}/`, { redirect: 'manual', signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (up) return { url, output: () => output, close };
    await sleep(200);
  }
  await close();
  throw new Error(`The ${adapter} example app did not start on ${url}. Its output:\n${output}`);
}
