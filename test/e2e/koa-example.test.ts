import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../../lib/testing/index.js';
import { drive } from '../../lib/testing/idp-driver.js';
import { localPath } from '../helpers/rp-app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

let child: ChildProcess;
let baseUrl: string;
let issuer: string;

beforeAll(async () => {
  const port = await freePort();
  baseUrl = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
  for (const name of ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_SCOPE', 'OIDC_ROLES_CLAIM', 'BASE_URL', 'REDIS_URL', 'SESSION_SECRET']) delete env[name];
  child = spawn(process.execPath, ['--import', 'tsx', 'example-app/koa-server.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Koa example did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /embedded dev IdP at (\S+);/.exec(output);
      if (match?.[1]) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the Koa example exited with ${code}:\n${output}`)));
  });
}, 30_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
});

describe('example-app/koa-server.ts (one command, embedded IdP)', () => {
  it('serves a public home page, guards /profile and /api/me, and logs alice in, and out locally', async () => {
    const agent = request.agent(baseUrl);
    const home = await agent.get('/').set('Accept', 'text/html').expect(200);
    expect(home.headers['cache-control']).toBe('no-store');
    expect(home.text).toContain('href="/login"');
    expect(home.text).toContain('alice');
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);

    const start = await agent.get('/profile').set('Accept', 'text/html').expect(302);
    expect(start.headers.location?.startsWith(issuer)).toBe(true);
    const back = await drive(start.headers.location as string, { issuer, mode: 'login', credentials: { username: 'alice', password: 'alice' }, jar: new CookieJar() });
    const done = await agent.get(localPath(back.url)).expect(302);
    expect(done.headers.location).toBe('/profile');

    const profile = await agent.get('/profile').set('Accept', 'text/html').expect(200);
    expect(profile.text).toContain('ctx.state.user');
    expect(profile.text).toContain('&quot;sub&quot;: &quot;alice&quot;');
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.user).toMatchObject({ sub: 'alice', roles: ['admin'] });
    await agent.get('/admin').set('Accept', 'text/html').expect(200);

    const out = await agent.post('/logout').set('Origin', baseUrl).expect(303);
    expect(out.headers.location).toBe(`${baseUrl}/`);
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });

  it('logs bob out of the IdP too from its own route, and refuses him the admin page', async () => {
    const agent = request.agent(baseUrl);
    const jar = new CookieJar();
    const start = await agent.get('/login').expect(302);
    const back = await drive(start.headers.location as string, { issuer, mode: 'login', credentials: { username: 'bob', password: 'bob' }, jar });
    await agent.get(localPath(back.url)).expect(302);
    const denied = await agent.get('/admin').set('Accept', 'text/html').expect(403);
    expect(denied.text).toContain('ERR_OIDC_FORBIDDEN');
    const out = await agent.post('/logout/idp').set('Origin', baseUrl).expect(303);
    expect(out.headers.location?.startsWith(issuer)).toBe(true);
    const after = await drive(out.headers.location as string, { issuer, mode: 'logout', jar });
    expect(after.url.startsWith(`${baseUrl}/`)).toBe(true);
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });

  it('sends a visit on another host name to the base URL, where the session cookie lives', async () => {
    const res = await request(baseUrl).get('/profile?x=1').set('Host', `localhost:${new URL(baseUrl).port}`).expect(302);
    expect(res.headers.location).toBe(`${baseUrl}/profile?x=1`);
  });

  it('lists alice\'s sessions and logs her out everywhere', async () => {
    const login = async () => {
      const agent = request.agent(baseUrl);
      const start = await agent.get('/login').expect(302);
      const back = await drive(start.headers.location as string, { issuer, mode: 'login', credentials: { username: 'alice', password: 'alice' }, jar: new CookieJar() });
      await agent.get(localPath(back.url)).expect(302);
      return agent;
    };
    const [one, two] = [await login(), await login()];
    const list = await one.get('/sessions').set('Accept', 'text/html').expect(200);
    // alice's session of the first test ended with its logout: these two are all there is.
    expect(list.text).toContain('<p id="session-count">2 session(s):</p>');
    expect(list.text.match(/\(this browser\)/g)).toHaveLength(1);
    await one.post('/sessions/logout-everywhere').set('Origin', baseUrl).expect(303);
    for (const agent of [one, two]) await agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });
});
