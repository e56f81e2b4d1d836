/**
 * Where the guarded request's overhead goes: `node --import tsx bench/diagnose.ts` serves one route per
 * slice of the path (bench/diag-app.ts), each from its own child process (so one route's objects never
 * reach another route's inline caches), and prints server CPU per request, rounds interleaved.
 * DIAG_ROUTES=/floor,/user picks routes. DIAG_INSTRUCTIONS=1 counts instructions per request instead,
 * under valgrind (cachegrind): deterministic, immune to the other tenants of a shared machine, slow.
 * DIAG_IC=1 counts V8 inline-cache misses per request (--log-ic): deterministic and fast.
 * DIAG_KIND=ours DIAG_LANE=guarded builds a throughput lane's app; DIAG_LOGINS=300 logs in that often first;
 * DIAG_STORE=redis DIAG_SESSIONS=1000 spreads the requests over that many synthetic sessions.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestIdp } from '../lib/testing/index.js';
import type { TestIdp } from '../lib/testing/index.js';
import { startChild } from './child.js';
import type { ServerChild } from './child.js';
import { login } from './driver.js';
import { readSettings } from './env.js';
import { compare } from './load.js';
import { describeMachine, hasTaskset, pinSelf } from './machine.js';
import type { AppKind, StoreKind } from './protocol.js';
import { createClient } from 'redis';
import { sessionIdFromCookie } from './cookies.js';
import { seedSessions } from './synthetic.js';

const ALL_ROUTES = ['/floor', '/noop', '/assign', '/define-property', '/oidc-mw', '/require-auth', '/user', '/user-twice', '/proposed-mw', '/proposed-user', '/proto-user'];
const ROUTES = process.env.DIAG_ROUTES ? process.env.DIAG_ROUTES.split(',') : ALL_ROUTES;
const settings = readSettings();
/** DIAG_KIND=eoc|ours to count a route of the bench's regular apps instead (e.g. DIAG_KIND=eoc DIAG_ROUTES=/guarded). */
const KIND = (process.env.DIAG_KIND ?? 'diag') as AppKind;
if (!['diag', 'ours', 'eoc'].includes(KIND)) throw new Error('DIAG_KIND must be diag, ours or eoc');
/** DIAG_LOGINS=300: that many whole logins through each server before it is measured (as a real process has served). */
const LOGINS_FIRST = Number(process.env.DIAG_LOGINS ?? 0);
/** DIAG_SESSIONS=1000 (with DIAG_STORE=redis): requests spread over that many synthetic sessions (bench/synthetic.ts). */
const SESSIONS = Number(process.env.DIAG_SESSIONS ?? 0);
/** DIAG_LANE=guarded: the `ours` app as a bench lane builds it, with only that route (bench/apps.ts). */
const LANE = process.env.DIAG_LANE || undefined;
/** DIAG_STORE=redis: the `ours` app with connect-redis and the Redis session index (its keys expire within the hour). */
const STORE = (process.env.DIAG_STORE ?? 'memory') as StoreKind;
if (!['memory', 'redis'].includes(STORE)) throw new Error('DIAG_STORE must be memory or redis');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** `count` GETs over 8 keep-alive connections, each with the next cookie of the pool. */
async function hit(url: string, cookie: string | readonly string[], count: number): Promise<void> {
  const pool = typeof cookie === 'string' ? [cookie] : cookie;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent += 1;
      const next = pool[sent % pool.length] as string;
      await new Promise<void>((resolve, reject) => {
        get(url, { agent, headers: { cookie: next }, timeout: 600_000 }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`${url}: ${res.statusCode}`))));
        }).on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  agent.destroy();
}

async function startAll(count: number, wrapper?: (i: number) => string[], core?: number, nodeFlags?: string[]): Promise<{ idp: TestIdp; children: ServerChild[]; cookies: Array<string | string[]> }> {
  const children: ServerChild[] = [];
  for (let i = 0; i < count; i++) {
    children.push(
      await startChild(
        {
          name: `diag-${i}`, kind: KIND, store: STORE, redisUrl: settings.redisUrl, redisPrefix: `oidc-diag:${process.pid}-${i}:`, secret: randomBytes(16).toString('hex'),
          ...(LANE ? { route: LANE } : {}),
        },
        { core, cpuProfDir: settings.cpuProfDir, ...(wrapper ? { wrapper: wrapper(i) } : {}), ...(nodeFlags ? { nodeFlags } : {}) },
      ),
    );
  }
  const idp = await createTestIdp({
    clients: children.map((c) => ({ client_id: c.spec.name, client_secret: `${c.spec.name}-secret`, redirect_uris: [`${c.baseUrl}/callback`] })),
  });
  const cookies: string[] = [];
  const pools: string[][] = [];
  try {
    for (const c of children) {
      await c.request({ cmd: 'configure', issuer: idp.issuer, clientId: c.spec.name, clientSecret: `${c.spec.name}-secret`, baseUrl: c.baseUrl });
      cookies.push((await login(c.baseUrl, idp)).cookie);
      for (let i = 0; i < LOGINS_FIRST; i++) await login(c.baseUrl, idp, i % 2 ? 'bob' : 'alice');
      if (SESSIONS > 0) pools.push(await syntheticPool(c, cookies.at(-1) as string));
    }
  } catch (err) {
    // a failed first login must not leave the (valgrind) children running
    await Promise.all(children.map((c) => c.close()));
    await idp.close();
    throw err;
  }
  return { idp, children, cookies: SESSIONS > 0 ? pools : cookies };
}

/** SESSIONS copies of the child's real session in Redis, and their cookies. */
async function syntheticPool(child: ServerChild, realCookie: string): Promise<string[]> {
  if (STORE !== 'redis') throw new Error('DIAG_SESSIONS needs DIAG_STORE=redis');
  const template = await child.request<string | null>({ cmd: 'storedSession', id: sessionIdFromCookie(realCookie) });
  if (!template) throw new Error('DIAG_SESSIONS: the real session is missing from Redis');
  const redis = createClient({ url: settings.redisUrl });
  await redis.connect();
  try {
    return (await seedSessions(redis, `${child.spec.redisPrefix}sess:`, template, SESSIONS, 0, child.spec.secret)).cookies;
  } finally {
    await redis.quit();
  }
}

async function cpuMode(): Promise<void> {
  const pin = settings.pin && describeMachine().cores >= 2 && hasTaskset() && pinSelf(1);
  const { idp, children, cookies } = await startAll(ROUTES.length, undefined, pin ? 0 : undefined);
  try {
    const rows = await compare(
      ROUTES.map((path, i) => ({ name: path, child: children[i] as ServerChild, path, cookies: ([] as string[]).concat(cookies[i] as string | string[]) })),
      settings,
      { idp },
      log,
    );
    const floor = rows[0]?.cpuUs ?? Number.NaN;
    process.stdout.write('| route | req/s | CPU us/req | vs first | spread |\n| --- | --- | --- | --- | --- |\n');
    for (const row of rows) {
      const diff = row.cpuUs - floor;
      process.stdout.write(`| ${row.name} | ${Math.round(row.rps)} | ${row.cpuUs.toFixed(1)} | ${(diff >= 0 ? '+' : '') + diff.toFixed(1)} | ${Math.round(row.spreadPct)}% |\n`);
    }
  } finally {
    await Promise.all(children.map((c) => c.close()));
    await idp.close();
  }
}

/** Instructions of one server process that served `count` requests to `path` (after one login). */
async function instructions(path: string, count: number): Promise<number> {
  const out = join(tmpdir(), `oidc-bench-cachegrind-${process.pid}-${randomBytes(4).toString('hex')}.out`);
  const wrapper = ['valgrind', '--tool=cachegrind', '--cache-sim=no', '--smc-check=all-non-file', `--cachegrind-out-file=${out}`, '--log-file=/dev/null'];
  const { idp, children, cookies } = await startAll(1, () => wrapper);
  const child = children[0] as ServerChild;
  try {
    if (path === 'login') {
      // whole logins through the RP (DIAG_ROUTES=login): /login, IdP pages, /callback
      for (let i = 0; i < count; i++) await login(child.baseUrl, idp, i % 2 ? 'bob' : 'alice');
    } else {
      await hit(child.baseUrl + path, cookies[0] as string | string[], count);
    }
  } finally {
    await child.close();
    await idp.close();
  }
  const text = await readFile(out, 'utf8');
  await rm(out, { force: true });
  const summary = /^summary:\s+(\d+)/m.exec(text);
  if (!summary) throw new Error(`no cachegrind summary in ${out}`);
  return Number(summary[1]);
}

async function instructionMode(): Promise<void> {
  const low = Number(process.env.DIAG_LOW ?? 2000);
  const high = Number(process.env.DIAG_HIGH ?? 6000);
  process.stdout.write(`| route | instructions per request (slope between ${low} and ${high} requests) |\n| --- | --- |\n`);
  for (const path of ROUTES) {
    const a = await instructions(path, low);
    const b = await instructions(path, high);
    process.stdout.write(`| ${path} | ${Math.round((b - a) / (high - low)).toLocaleString('en-US')} |\n`);
  }
}

/**
 * V8 inline-cache misses of one server process that served `count` requests to `path`: every line of
 * `--log-ic` output is an IC state change, and once warm nearly all of them are misses of a
 * megamorphic site (a property read or write that went through the runtime). Deterministic and fast.
 */
async function icEvents(path: string, count: number): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'oidc-bench-ic-'));
  const log = join(dir, 'v8.log');
  const { idp, children, cookies } = await startAll(1, undefined, undefined, ['--log-ic', `--logfile=${log}`, '--no-logfile-per-isolate']);
  const child = children[0] as ServerChild;
  try {
    await hit(child.baseUrl + path, cookies[0] as string | string[], count);
  } finally {
    await child.close();
    await idp.close();
  }
  const text = await readFile(log, 'utf8');
  await rm(dir, { recursive: true, force: true });
  return text.split('\n').filter((line) => /^(Keyed)?(Load|Store)IC,/.test(line)).length;
}

async function icMode(): Promise<void> {
  const low = Number(process.env.DIAG_LOW ?? 1000);
  const high = Number(process.env.DIAG_HIGH ?? 3000);
  process.stdout.write(`| route | V8 inline-cache misses per request (slope between ${low} and ${high} requests) |\n| --- | --- |\n`);
  for (const path of ROUTES) {
    const a = await icEvents(path, low);
    const b = await icEvents(path, high);
    process.stdout.write(`| ${path} | ${((b - a) / (high - low)).toFixed(1)} |\n`);
  }
}

(process.env.DIAG_INSTRUCTIONS === '1' ? instructionMode() : process.env.DIAG_IC === '1' ? icMode() : cpuMode()).catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
