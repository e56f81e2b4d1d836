// Cache-Control on guarded pages and the session cookie warnings, both adapters.
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { ADAPTERS, createRp, loggedInAgent } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => op.reset());

describe.each(ADAPTERS)('cache and cookie hygiene (%s)', (adapter) => {
  it('marks guarded responses Cache-Control: no-store', async () => {
    const rp = createRp(adapter, { issuer: op.issuer });
    const agent = await loggedInAgent(rp, op);
    const res = await agent.get('/profile').expect(200);
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('warns once when the session cookie is not Secure behind an https baseUrl, or has no SameSite', async () => {
    const warnings: string[] = [];
    const log = () => undefined;
    const rp = createRp(adapter, { issuer: op.issuer, baseUrl: 'https://app.example.com', logger: { debug: log, info: log, error: log, warn: (m: string) => warnings.push(m) } });
    await request(rp.app).get('/login');
    await request(rp.app).get('/login');
    expect(warnings.filter((w) => w.includes('not Secure'))).toHaveLength(1);
    expect(warnings.filter((w) => w.includes('SameSite'))).toHaveLength(1);
  });
});
