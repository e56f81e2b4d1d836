/**
 * 5. Refresh coalescing: a fresh login, the RP's injected clock moved past the access token's expiry,
 * then `burst` concurrent guarded requests on that one session. The IdP must see one refresh; the same
 * burst with a valid token right after gives the latency to compare with.
 */
import { Agent, get } from 'node:http';
import type { ServerChild } from '../child.js';
import { login } from '../driver.js';
import { ACCESS_TOKEN_TTL_SEC } from '../setup.js';
import type { World } from '../setup.js';
import { median, percentile } from '../stats.js';

export interface BurstRow {
  name: string;
  burst: number;
  /** Token-endpoint calls per expired burst, every round. */
  refreshCalls: number[];
  expiredAllMs: number;
  expiredP50Ms: number;
  freshAllMs: number;
  freshP50Ms: number;
  /** Non-200 answers over all bursts (must be 0). */
  failures: number;
}

interface Burst {
  allMs: number;
  p50Ms: number;
  failures: number;
}

/** `n` concurrent GETs, each on its own new connection; resolves when the last one has ended. */
function burst(url: string, cookie: string, n: number): Promise<Burst> {
  const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
  const start = performance.now();
  const one = () =>
    new Promise<{ ms: number; status: number }>((resolve) => {
      const req = get(url, { agent, headers: { cookie, accept: 'application/json' }, timeout: 15_000 }, (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - start, status: res.statusCode ?? 0 }));
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => resolve({ ms: performance.now() - start, status: 0 }));
    });
  return Promise.all(Array.from({ length: n }, one)).then((results) => {
    agent.destroy();
    const times = results.map((r) => r.ms);
    return { allMs: Math.max(...times), p50Ms: percentile(times, 50), failures: results.filter((r) => r.status !== 200).length };
  });
}

async function burstRounds(world: World, child: ServerChild): Promise<BurstRow> {
  const { settings, idp } = world;
  const row: BurstRow = { name: child.spec.name, burst: settings.burst, refreshCalls: [], expiredAllMs: 0, expiredP50Ms: 0, freshAllMs: 0, freshP50Ms: 0, failures: 0 };
  const expired: Burst[] = [];
  const fresh: Burst[] = [];
  const url = `${child.baseUrl}/guarded`;
  // one untimed burst first, so connection handling and the refresh path are warm in both variants
  for (let r = -1; r < settings.burstRounds; r++) {
    const { cookie } = await login(child.baseUrl, idp);
    await child.request({ cmd: 'clockOffset', ms: (ACCESS_TOKEN_TTL_SEC + 60) * 1000 });
    idp.resetCounters();
    const e = await burst(url, cookie, settings.burst);
    const calls = idp.counters.token;
    await child.request({ cmd: 'clockOffset', ms: 0 });
    const f = await burst(url, cookie, settings.burst);
    if (r < 0) continue;
    row.refreshCalls.push(calls);
    expired.push(e);
    fresh.push(f);
    row.failures += e.failures + f.failures;
  }
  row.expiredAllMs = median(expired.map((b) => b.allMs));
  row.expiredP50Ms = median(expired.map((b) => b.p50Ms));
  row.freshAllMs = median(fresh.map((b) => b.allMs));
  row.freshP50Ms = median(fresh.map((b) => b.p50Ms));
  world.log(`  ${child.spec.name}: refresh calls per burst ${row.refreshCalls.join(',')}, burst ${row.expiredAllMs.toFixed(1)} ms (fresh token: ${row.freshAllMs.toFixed(1)} ms)`);
  return row;
}

export async function refreshBursts(world: World): Promise<BurstRow[]> {
  world.log(`5. refresh coalescing: ${world.settings.burst} concurrent requests, ${world.settings.burstRounds} rounds`);
  const rows = [await burstRounds(world, world.oursMemory)];
  if (world.oursRedis) rows.push(await burstRounds(world, world.oursRedis));
  return rows;
}
