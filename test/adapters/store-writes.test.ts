/**
 * How often the library writes the session store (issue 14, login cost): once per login and once per
 * refresh, not once more by express-session at the end of the request, and never at the price of a
 * change the app made after our save. Express 4 and 5, MemoryStore.
 */
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startHostileOp } from '../helpers/hostile-op.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { EXPRESS_MAJORS, createRpApp, localPath } from '../helpers/rp-app.js';
import type { ExpressMajor, ExpressRpApp } from '../helpers/rp-app.js';

let op: HostileOp;
beforeAll(async () => {
  op = await startHostileOp({ clientId: 'rp', clientSecret: 'rp-secret' });
});
afterAll(() => op.close());
beforeEach(() => {
  op.reset();
  op.behaviour.accessTokenTtl = 30;
});

interface Harness {
  rp: ExpressRpApp;
  agent: request.Agent;
  /** Store writes (`set`) since the last call: session ids, in order. */
  takeWrites(): string[];
  advance(seconds: number): void;
}

function setup(major: ExpressMajor): Harness {
  let offset = 0;
  const rp = createRpApp({ issuer: op.issuer, clock: () => Date.now() + offset }, major, (app, auth) => {
    // The app's handler changes the session after the guard refreshed (and saved) the tokens.
    app.get('/visit', auth.requireAuth(), (req, res) => {
      const session = req.session as unknown as { visits?: number };
      session.visits = (session.visits ?? 0) + 1;
      res.json({ visits: session.visits });
    });
  });
  let writes: string[] = [];
  const set = rp.store.set.bind(rp.store);
  rp.store.set = (sid, data, callback) => {
    writes.push(sid);
    set(sid, data, callback);
  };
  return {
    rp,
    agent: request.agent(rp.app),
    takeWrites: () => writes.splice(0),
    advance: (seconds) => {
      offset += seconds * 1000;
    },
  };
}

async function logIn(h: Harness): Promise<void> {
  const start = await h.agent.get('/login').expect(302);
  await h.agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
}

async function storedSessions(h: Harness): Promise<Array<Record<string, unknown>>> {
  return Object.values(await h.rp.sessions());
}

describe.each(EXPRESS_MAJORS)('session store writes (Express %s)', (major) => {
  it('a login writes the new session once, and the stored copy holds the login', async () => {
    const h = setup(major);
    await h.agent.get('/login').expect(302);
    expect(h.takeWrites()).toHaveLength(1);
    const start = await h.agent.get('/login').expect(302);
    h.takeWrites();
    await h.agent.get(localPath(await op.authorize(start.headers.location as string))).expect(302);
    const writes = h.takeWrites();
    expect(writes).toHaveLength(1);
    const [stored] = await storedSessions(h);
    expect((stored?.oidc as { auth?: { sub?: string } } | undefined)?.auth?.sub).toBeTruthy();
    expect(Object.keys(await h.rp.sessions())).toEqual(writes);
    await h.agent.get('/api/me').set('Accept', 'application/json').expect(200);
  });

  it('a refresh writes once when the handler changes nothing, and the refreshed tokens are stored', async () => {
    const h = setup(major);
    await logIn(h);
    const before = (await storedSessions(h))[0]?.oidc as { auth: { accessToken: string } };
    h.takeWrites();
    h.advance(31);
    await h.agent.get('/api/me').set('Accept', 'application/json').expect(200);
    expect(h.takeWrites()).toHaveLength(1);
    const after = (await storedSessions(h))[0]?.oidc as { auth: { accessToken: string } };
    expect(after.auth.accessToken).not.toBe(before.auth.accessToken);
    expect(op.tokenCalls.filter((c) => c.grantType === 'refresh_token')).toHaveLength(1);
  });

  it('a change the handler makes after the refresh was saved is still written', async () => {
    const h = setup(major);
    await logIn(h);
    h.advance(31);
    h.takeWrites();
    expect((await h.agent.get('/visit').set('Accept', 'application/json').expect(200)).body).toEqual({ visits: 1 });
    expect(h.takeWrites()).toHaveLength(2);
    const [stored] = await storedSessions(h);
    expect(stored?.visits).toBe(1);
    expect(op.tokenCalls.filter((c) => c.grantType === 'refresh_token')).toHaveLength(1);
    // And the next request, with no refresh due, sees both.
    expect((await h.agent.get('/visit').set('Accept', 'application/json').expect(200)).body).toEqual({ visits: 2 });
  });

  it('a logout leaves no session behind and writes none back', async () => {
    const h = setup(major);
    await logIn(h);
    h.takeWrites();
    await h.agent.get('/logout').expect(302);
    const auths = (await storedSessions(h)).map((s) => (s.oidc as { auth?: unknown } | undefined)?.auth).filter(Boolean);
    expect(auths).toEqual([]);
    expect(h.takeWrites().length).toBeLessThanOrEqual(1);
    await h.agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });
});
