import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createTestIdp } from '../../../lib/testing/index.js';
import type { TestIdp, TestIdpOptions } from '../../../lib/testing/index.js';
import type { InstanceConfig } from '../fixtures/instance.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/instance.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const START_TIMEOUT_MS = 15_000;

/** One app process (test/redis/fixtures/instance.ts). */
export interface AppInstance {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** True while the process runs (it never exited or crashed). */
  alive(): boolean;
  configure(config: Omit<InstanceConfig, 'name'>): Promise<void>;
  stop(): Promise<void>;
}

export async function startInstance(name: string): Promise<AppInstance> {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const waiters: Array<{ event: string; resolve: (e: Record<string, unknown>) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const waiter of waiters.splice(0)) {
      if (waiter.event === event.event) waiter.resolve(event);
      else waiters.push(waiter);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const next = (event: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance ${name}: no "${event}" within ${START_TIMEOUT_MS} ms. stderr:\n${stderr}`)), START_TIMEOUT_MS);
      waiters.push({ event, resolve: (e) => (clearTimeout(timer), resolve(e)) });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`instance ${name} exited (code ${child.exitCode}) before "${event}". stderr:\n${stderr}`));
      });
    });
  const listening = await next('listening');
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    url: `http://127.0.0.1:${listening.port as number}`,
    child,
    stderr: () => stderr,
    alive,
    async configure(config) {
      const ready = next('ready');
      child.stdin!.write(JSON.stringify({ name, ...config }) + '\n');
      await ready;
    },
    async stop() {
      if (!alive()) return;
      child.stdin!.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export interface TwoInstances {
  a: AppInstance;
  b: AppInstance;
  idp: TestIdp;
  close(): Promise<void>;
}

/**
 * Instances A and B sharing one Redis, plus the in-process IdP. The IdP knows only A's URLs and both
 * use A's URL as `baseUrl`: in production both sit behind one public origin, and here the test plays
 * the load balancer, sending the same cookie to whichever instance it likes.
 */
export async function startTwoInstances(
  redis: { url: string; prefix: string; timeoutMs: number; tokenDelayMs?: number },
  idpOptions: Partial<TestIdpOptions> = {},
): Promise<TwoInstances> {
  const started = await Promise.allSettled([startInstance('A'), startInstance('B')]);
  const [a, b] = started.map((s) => (s.status === 'fulfilled' ? s.value : undefined));
  let idp: TestIdp | undefined;
  const close = async () => {
    await Promise.all([a?.stop(), b?.stop(), idp?.close()]);
  };
  try {
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    idp = await createTestIdp({
      clients: [
        {
          client_id: 'rp',
          client_secret: 'rp-secret',
          redirect_uris: [`${a!.url}/callback`],
          post_logout_redirect_uris: [`${a!.url}/`],
          backchannel_logout_uri: `${a!.url}/backchannel-logout`,
        },
      ],
      rotateRefreshTokens: true,
      ...idpOptions,
    });
    const config = { issuer: idp.issuer, baseUrl: a!.url, redisUrl: redis.url, prefix: redis.prefix, timeoutMs: redis.timeoutMs, tokenDelayMs: redis.tokenDelayMs };
    await Promise.all([a!.configure(config), b!.configure(config)]);
    return { a: a!, b: b!, idp, close };
  } catch (err) {
    await close();
    throw err;
  }
}
