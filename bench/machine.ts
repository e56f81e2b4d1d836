/** What the numbers were measured on, and how the two cores were shared out. */
import { execFileSync } from 'node:child_process';
import { availableParallelism, totalmem } from 'node:os';

export interface Machine {
  cores: number;
  model: string;
  memoryGb: number;
  node: string;
  platform: string;
  /** How the server under test and the load generator were kept apart. */
  pinning: string;
  redis?: string;
}

function run(command: string, args: string[]): string | undefined {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return undefined;
  }
}

export function describeMachine(): Omit<Machine, 'pinning'> {
  const lscpu = run('lscpu', []) ?? '';
  const model = /^Model name:\s*(.+)$/m.exec(lscpu)?.[1]?.trim() ?? 'unknown';
  const nproc = Number(run('nproc', []) ?? availableParallelism());
  return {
    cores: nproc,
    model,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

export function hasTaskset(): boolean {
  return run('taskset', ['-V']) !== undefined || run('taskset', ['--version']) !== undefined;
}

/**
 * Pins this process (the load generator, the IdP and the login drivers) to `core`, every thread
 * included. Threads started later inherit the mask.
 */
export function pinSelf(core: number): boolean {
  return run('taskset', ['-a', '-cp', String(core), String(process.pid)]) !== undefined;
}

/** The CPU list a process may run on (read only). */
export function affinityOf(pid: number): string | undefined {
  return run('taskset', ['-cp', String(pid)])?.split(':').pop()?.trim();
}
