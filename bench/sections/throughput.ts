/** 1. Guarded-route throughput: ours vs the session-only floor vs a bare route vs express-openid-connect. */
import { login } from '../driver.js';
import { compare } from '../load.js';
import type { RoundResult, Target, TargetResult } from '../load.js';
import type { ServerChild } from '../child.js';
import type { World } from '../setup.js';
import { median, ratio } from '../stats.js';

export interface ThroughputResult {
  rows: TargetResult[];
  /** Each ratio is the median over the rounds of that round's own ratio (the two rows measured seconds apart). */
  ratios: Record<string, number>;
  /** The lowest and highest of the per-round ratios: how much the rounds disagree. */
  ratioRanges: Record<string, [number, number]>;
}

const EOC = 'express-openid-connect requiresAuth + req.oidc.user';

export async function throughput(world: World): Promise<ThroughputResult> {
  const { oursRedis, settings } = world;
  // Every row is served by `settings.replicas` processes of its own, each logged in once.
  const lane = async (name: string, main: string, route: string): Promise<Target> => {
    const served: Array<{ child: ServerChild; cookies: string[] }> = [];
    for (let replica = 0; replica < settings.replicas; replica++) {
      const child = world.lanes.get(`${main}:${route}#${replica}`);
      if (!child) throw new Error(`no lane ${main}:${route}#${replica}`);
      served.push({ child, cookies: [(await login(child.baseUrl, world.idp)).cookie] });
    }
    const [first, ...replicas] = served as [{ child: ServerChild; cookies: string[] }, ...Array<{ child: ServerChild; cookies: string[] }>];
    return { name, path: `/${route}`, ...first, replicas };
  };
  // The order is the measuring order (reversed every other round): the rows of each ratio are neighbours,
  // and express-openid-connect sits between the two guarded rows it is compared with.
  const targets: Target[] = [
    await lane('bare route (no session)', 'ours-memory', 'bare'),
    await lane('MemoryStore: session-only after oidc()', 'ours-memory', 'mounted'),
    await lane('MemoryStore: session-only (floor)', 'ours-memory', 'session-only'),
    await lane('MemoryStore: ours requireAuth + req.user', 'ours-memory', 'guarded'),
    await lane(EOC, 'eoc', 'guarded'),
  ];
  if (oursRedis) {
    targets.push(
      await lane('Redis: ours requireAuth + req.user', 'ours-redis', 'guarded'),
      await lane('Redis: session-only (floor)', 'ours-redis', 'session-only'),
      await lane('Redis: session-only after oidc()', 'ours-redis', 'mounted'),
    );
  }
  if (settings.targets) {
    const pattern = new RegExp(settings.targets);
    targets.splice(0, targets.length, ...targets.filter((t) => pattern.test(t.name)));
  }
  world.log(`1. guarded throughput: ${targets.length} targets, ${settings.rounds} rounds x ${settings.duration}s, ${settings.connections} connections`);
  const rows = await compare(targets, settings, { idp: world.idp, ...(world.redisCpu ? { redisCpu: world.redisCpu } : {}) }, world.log);
  const by = (name: string) => rows.find((r) => r.name === name);
  const ratios: Record<string, number> = {};
  const ratioRanges: Record<string, [number, number]> = {};
  const set = (key: string, a: TargetResult | undefined, b: TargetResult | undefined, field: keyof Pick<RoundResult, 'rps' | 'cpuUs'>) => {
    if (!a || !b) return;
    const each = a.rounds.map((round, i) => ratio(round[field], (b.rounds[i] as RoundResult)[field]));
    ratios[key] = median(each);
    ratioRanges[key] = [Math.min(...each), Math.max(...each)];
  };
  const eocRow = by(EOC);
  for (const store of ['MemoryStore', 'Redis']) {
    const ours = by(`${store}: ours requireAuth + req.user`);
    const floor = by(`${store}: session-only (floor)`);
    const mounted = by(`${store}: session-only after oidc()`);
    set(`${store}: session-only after oidc() / session-only (req/s)`, mounted, floor, 'rps');
    set(`${store}: session-only / session-only after oidc() (CPU per request)`, floor, mounted, 'cpuUs');
    set(`${store}: ours / session-only (req/s)`, ours, floor, 'rps');
    set(`${store}: session-only / ours (CPU per request)`, floor, ours, 'cpuUs');
    set(`${store}: ours / express-openid-connect (req/s)`, ours, eocRow, 'rps');
    set(`${store}: express-openid-connect / ours (CPU per request)`, eocRow, ours, 'cpuUs');
    set(`${store}: ours / session-only (CPU per request)`, ours, floor, 'cpuUs');
  }
  set('express-openid-connect / MemoryStore session-only (req/s)', eocRow, by('MemoryStore: session-only (floor)'), 'rps');
  set('express-openid-connect / MemoryStore session-only (CPU per request)', eocRow, by('MemoryStore: session-only (floor)'), 'cpuUs');
  return { rows, ratios, ratioRanges };
}
