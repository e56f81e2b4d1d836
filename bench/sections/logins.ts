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
  spreadPct: number;
  logins: number;
  /** IdP requests per login, by endpoint, over all measured rounds (discovery/JWKS happened at warm-up). */
  idpPerLogin: Partial<Record<IdpEndpoint, number>>;
  rounds: Array<{ loginsPerSec: number; cpuMsPerLogin: number; systemMsPerLogin: number }>;
}

export interface LoginResult {
  rows: LoginRow[];
  ratios: Record<string, number>;
}

export async function logins(world: World): Promise<LoginResult> {
  const { settings, idp } = world;
  const children = [world.oursMemory, ...(world.oursRedis ? [world.oursRedis] : []), world.eoc];
  const rounds = Math.min(settings.rounds, 3);
  world.log(`2. login cost: ${children.length} RPs, ${rounds} rounds x ${settings.loginDuration}s, ${settings.loginConcurrency} concurrent drivers`);
  for (const child of children) await loginLoop(child.baseUrl, idp, Math.min(2, settings.loginDuration), settings.loginConcurrency);
  const perChild = new Map<ServerChild, { rounds: LoginRow['rounds']; logins: number; counters: Record<string, number> }>(
    children.map((c) => [c, { rounds: [], logins: 0, counters: {} }]),
  );
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < children.length; i++) {
      const child = children[(i + r) % children.length] as ServerChild;
      const acc = perChild.get(child);
      if (!acc) continue;
      await child.request({ cmd: 'gc' });
      idp.resetCounters();
      const before = await child.cpu();
      const run = await loginLoop(child.baseUrl, idp, settings.loginDuration, settings.loginConcurrency);
      const after = await child.cpu();
      for (const [endpoint, count] of Object.entries(idp.counters)) acc.counters[endpoint] = (acc.counters[endpoint] ?? 0) + count;
      acc.logins += run.logins;
      const row = {
        loginsPerSec: run.logins / run.seconds,
        cpuMsPerLogin: (after.cpuMicros - before.cpuMicros) / 1000 / run.logins,
        systemMsPerLogin: (after.systemMicros - before.systemMicros) / 1000 / run.logins,
      };
      acc.rounds.push(row);
      world.log(`  round ${r + 1}/${rounds} ${child.spec.name}: ${row.loginsPerSec.toFixed(1)} logins/s, ${row.cpuMsPerLogin.toFixed(2)} ms RP CPU/login`);
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
      spreadPct: spreadPct(acc.rounds.map((x) => x.loginsPerSec)),
      logins: acc.logins,
      idpPerLogin,
      rounds: acc.rounds,
    };
  });
  const eoc = rows.find((r) => r.name === 'eoc');
  const ratios: Record<string, number> = {};
  for (const row of rows) {
    if (row === eoc || !eoc) continue;
    ratios[`${row.name} / express-openid-connect (logins/s)`] = ratio(row.loginsPerSec, eoc.loginsPerSec);
    ratios[`express-openid-connect / ${row.name} (RP CPU per login)`] = ratio(eoc.cpuMsPerLogin, row.cpuMsPerLogin);
  }
  return { rows, ratios };
}
