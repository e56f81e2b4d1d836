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
  for (const name of ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'BASE_URL', 'REDIS_URL']) delete env[name];
  child = spawn(process.execPath, ['--import', 'tsx', 'example-app/koa-server.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Koa example did not start:\n${output}`)), 15_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /embedded IdP at (\S+)\)/.exec(output);
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
  it('serves a public home page, guards /profile and /api/me, logs alice in and out', async () => {
    const agent = request.agent(baseUrl);
    const home = await agent.get('/').set('Accept', 'text/html').expect(200);
    expect(home.text).toContain('href="/login"');
    expect(home.text).toContain('alice');
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);

    const start = await agent.get('/profile').set('Accept', 'text/html').expect(302);
    expect(start.headers.location?.startsWith(issuer)).toBe(true);
    const jar = new CookieJar();
    const back = await drive(start.headers.location as string, { issuer, mode: 'login', credentials: { username: 'alice', password: 'alice' }, jar });
    const done = await agent.get(localPath(back.url)).expect(302);
    expect(done.headers.location).toBe('/profile');

    const profile = await agent.get('/profile').set('Accept', 'text/html').expect(200);
    expect(profile.text).toContain('ctx.state.user');
    expect(profile.text).toContain('&quot;sub&quot;: &quot;alice&quot;');
    const me = await agent.get('/api/me').expect(200);
    expect(me.body.user).toMatchObject({ sub: 'alice', roles: ['admin'] });
    await agent.get('/admin').set('Accept', 'text/html').expect(200);

    const out = await agent.post('/logout').set('Origin', baseUrl).expect(303);
    expect(out.headers.location?.startsWith(issuer)).toBe(true);
    const after = await drive(out.headers.location as string, { issuer, mode: 'logout', jar });
    expect(after.url.startsWith(`${baseUrl}/`)).toBe(true);
    await agent.get('/api/me').set('Accept', 'application/json').expect(401);
  });
});
