/**
 * 2 + 3. Full login cost (logins/s and RP CPU per login through the whole flow) and the IdP requests a
 * login makes, ours vs express-openid-connect in the same run, rounds interleaved.
 */
import type { ServerChild } from '../child.js';
import { loginLoop } from '../driver.js';
import type { IdpEndpoint } from '../../lib/testing/index.js';
import type { World } from '../setup.js';
import { median, ratio, spreadPct } from '../stats.js';

export interface LoginRow {
  name: string;
  loginsPerSec: number;
  cpuMsPerLogin: number;
  /** Of which kernel time (the loopback TCP of the IdP calls and the store). */
  systemMsPerLogin: number;
  /**
   * CPU of the bench process per login: the embedded IdP and the login drivers, on the other core. When
   * that core is busy, logins/s is bound by it, so an RP that asks the IdP for more (userinfo) logs in fewer.
   */
  idpAndDriverMsPerLogin: number;
  spreadPct: number;
  logins: number;
  /** IdP requests per login, by endpoint, over all measured rounds (discovery/JWKS happened at warm-up). */
  idpPerLogin: Partial<Record<IdpEndpoint, number>>;
  rounds: Array<{ loginsPerSec: number; cpuMsPerLogin: number; systemMsPerLogin: number; idpAndDriverMsPerLogin: number }>;
}

export interface LoginResult {
  rows: LoginRow[];
  /** Each ratio is the median over the rounds of that round's own ratio (the two RPs measured seconds apart). */
  ratios: Record<string, number>;
  /** The lowest and highest of the per-round ratios. */
  ratioRanges: Record<string, [number, number]>;
}

export async function logins(world: World): Promise<LoginResult> {
  const { settings, idp } = world;
  // express-openid-connect in the middle, so each of ours is its neighbour; the order is reversed every other round.
  const children = [world.oursMemory, world.eoc, ...(world.oursRedis ? [world.oursRedis] : [])];
  const rounds = settings.loginRounds;
  world.log(`2. login cost: ${children.length} RPs, ${rounds} rounds x ${settings.loginDuration}s, ${settings.loginConcurrency} concurrent drivers`);
  for (const child of children) await loginLoop(child.baseUrl, idp, Math.min(2, settings.loginDuration), settings.loginConcurrency);
  const perChild = new Map<ServerChild, { rounds: LoginRow['rounds']; logins: number; counters: Record<string, number> }>(
    children.map((c) => [c, { rounds: [], logins: 0, counters: {} }]),
  );
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? children : [...children].reverse();
    for (const child of order) {
      const acc = perChild.get(child);
      if (!acc) continue;
      await child.request({ cmd: 'gc' });
      idp.resetCounters();
      const before = await child.cpu();
      const runnerBefore = process.cpuUsage();
      const run = await loginLoop(child.baseUrl, idp, settings.loginDuration, settings.loginConcurrency);
      const runner = process.cpuUsage(runnerBefore);
      const after = await child.cpu();
      for (const [endpoint, count] of Object.entries(idp.counters)) acc.counters[endpoint] = (acc.counters[endpoint] ?? 0) + count;
      acc.logins += run.logins;
      const row = {
        loginsPerSec: run.logins / run.seconds,
        cpuMsPerLogin: (after.cpuMicros - before.cpuMicros) / 1000 / run.logins,
        systemMsPerLogin: (after.systemMicros - before.systemMicros) / 1000 / run.logins,
        idpAndDriverMsPerLogin: (runner.user + runner.system) / 1000 / run.logins,
      };
      acc.rounds.push(row);
      world.log(`  round ${r + 1}/${rounds} ${child.spec.name}: ${row.loginsPerSec.toFixed(1)} logins/s, ${row.cpuMsPerLogin.toFixed(2)} ms RP CPU/login, ${row.idpAndDriverMsPerLogin.toFixed(2)} ms IdP + drivers`);
    }
  }
  const rows: LoginRow[] = children.map((child) => {
    const acc = perChild.get(child) as { rounds: LoginRow['rounds']; logins: number; counters: Record<string, number> };
    const idpPerLogin: LoginRow['idpPerLogin'] = {};
    for (const endpoint of ['discovery', 'jwks', 'authorization', 'token', 'userinfo'] as const) {
      idpPerLogin[endpoint] = (acc.counters[endpoint] ?? 0) / acc.logins;
    }
    return {
      name: child.spec.name,
      loginsPerSec: median(acc.rounds.map((x) => x.loginsPerSec)),
      cpuMsPerLogin: median(acc.rounds.map((x) => x.cpuMsPerLogin)),
      systemMsPerLogin: median(acc.rounds.map((x) => x.systemMsPerLogin)),
      idpAndDriverMsPerLogin: median(acc.rounds.map((x) => x.idpAndDriverMsPerLogin)),
      spreadPct: spreadPct(acc.rounds.map((x) => x.loginsPerSec)),
      logins: acc.logins,
      idpPerLogin,
      rounds: acc.rounds,
    };
  });
  const eoc = rows.find((r) => r.name === 'eoc');
  const ratios: Record<string, number> = {};
  const ratioRanges: Record<string, [number, number]> = {};
  const set = (key: string, each: number[]) => {
    ratios[key] = median(each);
    ratioRanges[key] = [Math.min(...each), Math.max(...each)];
  };
  for (const row of rows) {
    if (row === eoc || !eoc) continue;
    set(`${row.name} / express-openid-connect (logins/s)`, row.rounds.map((x, i) => ratio(x.loginsPerSec, (eoc.rounds[i] as LoginRow['rounds'][number]).loginsPerSec)));
    set(`express-openid-connect / ${row.name} (RP CPU per login)`, row.rounds.map((x, i) => ratio((eoc.rounds[i] as LoginRow['rounds'][number]).cpuMsPerLogin, x.cpuMsPerLogin)));
  }
  return { rows, ratios, ratioRanges };
}
