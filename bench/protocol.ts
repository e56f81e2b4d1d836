/** Messages between the bench runner and a server-under-test child process. */

export type AppKind = 'ours' | 'eoc' | 'diag';
export type StoreKind = 'memory' | 'redis';

/** Given to the child on its command line (JSON). */
export interface ChildSpec {
  name: string;
  kind: AppKind;
  store: StoreKind;
  redisUrl: string;
  /** Key prefix of this run in Redis (connect-redis prefix = `${redisPrefix}sess:`). */
  redisPrefix: string;
  /** Signs express-session cookies (ours) or derives EOC's cookie key. */
  secret: string;
  /**
   * The one measured route this process serves (a throughput lane); the others are left out of its app, so
   * that the floor, mounted and guarded requests walk the same number of Express layers. All when absent.
   */
  route?: string;
}

export interface OwnerEntry {
  id: string;
  iss: string;
  sub: string;
  sid: string;
}

export type Command =
  | { cmd: 'configure'; issuer: string; clientId: string; clientSecret: string; baseUrl: string }
  | { cmd: 'cpu' }
  | { cmd: 'clockOffset'; ms: number }
  | { cmd: 'storedSession'; id: string }
  | { cmd: 'indexSessions'; entries: OwnerEntry[] }
  | { cmd: 'logoutTimings' }
  | { cmd: 'gc' };

/** What `cpu` answers: cumulative counters since the child started. */
export interface CpuSnapshot {
  /** process.cpuUsage() user + system, microseconds. */
  cpuMicros: number;
  /** Of which in the kernel (loopback TCP, syscalls), microseconds. */
  systemMicros: number;
  /** Requests the HTTP server has received. */
  requests: number;
  /** process.hrtime, nanoseconds (as a number: fine for deltas). */
  wallNanos: number;
}

export interface Request {
  id: number;
  command: Command;
}

export type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type Hello = { hello: 'listening'; port: number };
