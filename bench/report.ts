/** Markdown tables for the terminal, BENCHMARKS.md and the README section. */
import type { FirstLogins } from './sections/first-logins.js';
import type { LoginResult } from './sections/logins.js';
import type { BurstRow } from './sections/refresh.js';
import type { ScaleResult } from './sections/scale.js';
import type { ThroughputResult } from './sections/throughput.js';
import type { BenchSettings } from './env.js';
import type { Machine } from './machine.js';

export interface Results {
  date: string;
  machine: Machine;
  settings: Omit<BenchSettings, 'only'> & { only: string[] };
  first: FirstLogins;
  throughput: ThroughputResult | undefined;
  logins: LoginResult | undefined;
  refresh: BurstRow[] | undefined;
  scale: ScaleResult | undefined;
  /** 1-minute load average before and after each section. */
  load: Record<string, [number, number]>;
  targets: Target[];
}

export interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

const f0 = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a');
const f1 = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function evaluateTargets(r: Omit<Results, 'targets'>): Target[] {
  const out: Target[] = [];
  const t = r.throughput?.ratios ?? {};
  // Judged on server CPU per request (what a request costs, whoever else shares the machine); req/s beside.
  const cpuTarget = (what: string, min: number, cpu: number | undefined, rps: number | undefined) => {
    if (cpu !== undefined) out.push({ what, target: `>= ${min}`, measured: `${f2(cpu)} (req/s: ${rps === undefined ? 'n/a' : f2(rps)})`, met: cpu >= min });
  };
  for (const store of ['MemoryStore', 'Redis']) {
    cpuTarget(`${store}: guarded / session-only (floor), CPU per request`, 0.95, t[`${store}: session-only / ours (CPU per request)`], t[`${store}: ours / session-only (req/s)`]);
    cpuTarget(`${store}: guarded ours / express-openid-connect, CPU per request`, 1.8, t[`${store}: express-openid-connect / ours (CPU per request)`], t[`${store}: ours / express-openid-connect (req/s)`]);
    cpuTarget(
      `${store}: unguarded route after app.use(oidc()) / floor, CPU per request`, 0.98,
      t[`${store}: session-only / session-only after oidc() (CPU per request)`], t[`${store}: session-only after oidc() / session-only (req/s)`],
    );
  }
  for (const [key, value] of Object.entries(r.logins?.ratios ?? {})) {
    if (key.endsWith('(logins/s)') || key.includes('(RP CPU per login)')) out.push({ what: key, target: '>= 1.0', measured: f2(value), met: value >= 1 });
  }
  const guardedCalls = (r.throughput?.rows.reduce((a, row) => a + row.idpCalls, 0) ?? 0) + (r.scale?.rows.reduce((a, row) => a + row.idpCalls, 0) ?? 0);
  out.push({ what: 'IdP requests during all guarded-request rounds', target: '0', measured: String(guardedCalls), met: guardedCalls === 0 });
  for (const size of r.first.sizes.filter((s) => s.oidcBytes !== undefined)) {
    out.push({ what: `${size.name}: bytes stored per login`, target: '<= 1536', measured: String(size.storedBytes), met: size.storedBytes <= 1536 });
  }
  for (const burst of r.refresh ?? []) {
    const ok = burst.refreshCalls.every((c) => c === 1) && burst.failures === 0;
    out.push({ what: `${burst.name}: refresh calls per ${burst.burst}-request burst`, target: '1', measured: burst.refreshCalls.join(', '), met: ok });
  }
  return out;
}

export function renderTables(r: Results): string {
  const parts: string[] = [];
  const m = r.machine;
  parts.push(
    `Measured ${r.date} on ${m.cores} cores (${m.model}), ${m.memoryGb} GB, Node ${m.node}, ${m.platform}${m.redis ? `, Redis ${m.redis}` : ''}. ` +
      `${m.pinning} Machine load (1-min load average before -> after each section): ` +
      `${Object.entries(r.load).map(([k, [a, b]]) => `${k} ${a.toFixed(1)} -> ${b.toFixed(1)}`).join(', ') || 'n/a'}. Settings: ${r.settings.rounds} rounds x ${r.settings.duration} s per target after a ${r.settings.warmup} s warm-up, ${r.settings.connections} connections; medians. ` +
      'Throughput targets measured one after another in the order of the table, reversed every other round, so that the two rows of a ratio are measured seconds apart; each ratio is the median of the rounds\' own ratios.',
  );
  parts.push('### Targets\n\n' + table(['what', 'target', 'measured', 'met'], r.targets.map((x) => [x.what, x.target, x.measured, x.met ? 'yes' : '**no**'])));
  if (r.throughput) parts.push(
    '### 1. Guarded-route throughput\n\n' +
      table(
        ['route', 'req/s', 'server CPU us/req', 'Redis CPU us/req', 'p50 / p99 ms', 'spread', 'IdP calls'],
        r.throughput.rows.map((x) => [x.name, f0(x.rps), f1(x.cpuUs), x.redisCpuUs === undefined ? '' : f1(x.redisCpuUs), `${x.latencyP50Ms} / ${x.latencyP99Ms}`, `${f0(x.spreadPct)}%`, String(x.idpCalls)]),
      ) +
      '\n\n' +
      table(
        ['ratio', 'median of the rounds\' own ratios', 'lowest - highest round'],
        Object.entries(r.throughput.ratios).map(([k, v]) => {
          const range = r.throughput?.ratioRanges?.[k];
          return [k, f2(v), range ? `${f2(range[0])} - ${f2(range[1])}` : ''];
        }),
      ),
  );
  if (r.logins) parts.push(
    '### 2. Full login (RP /login -> IdP login pages -> RP /callback)\n\n' +
      table(
        ['RP', 'logins/s', 'RP CPU ms/login', 'of which kernel', 'IdP + drivers CPU ms/login (other core)', 'spread', 'logins', 'IdP requests per login (discovery / jwks / authorization / token / userinfo)'],
        r.logins.rows.map((x) => [
          x.name, f1(x.loginsPerSec), f2(x.cpuMsPerLogin), f2(x.systemMsPerLogin), f2(x.idpAndDriverMsPerLogin), `${f0(x.spreadPct)}%`, String(x.logins),
          (['discovery', 'jwks', 'authorization', 'token', 'userinfo'] as const).map((e) => f2(x.idpPerLogin[e] ?? 0)).join(' / '),
        ]),
      ) +
      '\n\n' +
      table(
        ['ratio', 'median of the rounds\' own ratios', 'lowest - highest round'],
        Object.entries(r.logins.ratios).map(([k, v]) => {
          const range = r.logins?.ratioRanges?.[k];
          return [k, f2(v), range ? `${f2(range[0])} - ${f2(range[1])}` : ''];
        }),
      ),
  );
  parts.push(
    '### 3. IdP requests of a freshly started RP\n\n' +
      table(
        ['RP', 'login', 'discovery', 'jwks', 'authorization', 'token', 'userinfo'],
        r.first.idpCalls.map((x) => [x.name, x.login, ...(['discovery', 'jwks', 'authorization', 'token', 'userinfo'] as const).map((e) => String(x.counters[e] ?? 0))]),
      ),
  );
  parts.push(
    '### 4. Session size per login\n\n' +
      table(
        ['RP', 'where', 'bytes stored', 'oidc part', 'id_token', 'access_token', 'refresh_token', 'userinfo extras', 'Cookie header bytes per request'],
        r.first.sizes.map((x) => [
          x.name, x.where, String(x.storedBytes), String(x.oidcBytes ?? ''), String(x.idTokenBytes ?? ''), String(x.accessTokenBytes ?? ''),
          String(x.refreshTokenBytes ?? ''), String(x.userinfoBytes ?? ''), String(x.cookieHeaderBytes),
        ]),
      ),
  );
  if (r.refresh) parts.push(
    '### 5. Refresh coalescing (access token expired, concurrent guarded requests on one session)\n\n' +
      table(
        ['RP', 'burst', 'refresh calls at the IdP per burst', 'expired: all done / p50 ms', 'valid token: all done / p50 ms', 'non-200'],
        r.refresh.map((x) => [x.name, String(x.burst), x.refreshCalls.join(', '), `${f1(x.expiredAllMs)} / ${f1(x.expiredP50Ms)}`, `${f1(x.freshAllMs)} / ${f1(x.freshP50Ms)}`, String(x.failures)]),
      ),
  );
  if (r.scale) {
    const s = r.scale;
    parts.push(
      '### 6. Scale (Redis)\n\n' +
        table(
          ['sessions in Redis', 'requests spread over', 'route', 'req/s', 'server CPU us/req', 'Redis CPU us/req', 'p99 ms', 'spread'],
          s.rows.map((x) => [f0(x.sessions), f0(x.distinct), x.name.split(': ').pop() ?? x.name, f0(x.rps), f1(x.cpuUs), x.redisCpuUs === undefined ? '' : f1(x.redisCpuUs), String(x.latencyP99Ms), `${f0(x.spreadPct)}%`]),
        ) +
        `\n\nSeeding: ${f1(s.seedSeconds)} s (pipelined SET EX), Redis memory ${f0(s.redisBytesPerSession)} bytes per session. Index: ${s.index}.\n\n` +
        table(
          ['synthetic sessions indexed', 'back-channel logout, RP server-side median / max ms', 'IdP-initiated logout end to end, median ms', 'RP answers', 'session gone from Redis'],
          s.logout.map((x) => [f0(x.indexed), `${f2(x.medianMs)} / ${f2(x.maxMs)}`, f1(x.endToEndMedianMs), x.statuses.join(','), x.sessionsGone ? 'yes' : '**no**']),
        ),
    );
  }
  return parts.join('\n\n');
}
