import { createServer } from 'node:http';
import type { AddressInfo, Server } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { navigate, NAVIGATION_ACCEPT, scriptFetch, submitForm } from './browser-navigation.js';

let server: Server;
let origin: string;
let seen: Array<{ method: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', headers: req.headers, body });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the test browser model (what reaches a node:http server)', () => {
  it('a navigation arrives as Chromium sends it', async () => {
    seen = [];
    await navigate(request(origin).get('/page'), { site: 'none' });
    expect(seen[0]?.headers).toMatchObject({
      accept: NAVIGATION_ACCEPT, 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', 'sec-fetch-site': 'none', 'sec-fetch-user': '?1',
    });
  });

  it('a form submission is a POST navigation with Origin and a urlencoded body; a script fetch is cors', async () => {
    seen = [];
    await submitForm(request(origin).post('/logout'), { a: '1' }, { origin: 'http://127.0.0.1:3000' });
    await scriptFetch(request(origin).get('/api'));
    expect(seen[0]).toMatchObject({
      method: 'POST', body: 'a=1',
      headers: { 'sec-fetch-mode': 'navigate', origin: 'http://127.0.0.1:3000', 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(seen[1]?.headers).toMatchObject({ 'sec-fetch-mode': 'cors', 'sec-fetch-dest': 'empty', accept: '*/*' });
  });

  it("Node's fetch cannot model a navigation: it replaces Sec-Fetch-Mode with cors", async () => {
    seen = [];
    await fetch(origin + '/page', { headers: { 'Sec-Fetch-Mode': 'navigate', Accept: NAVIGATION_ACCEPT } });
    expect(seen[0]?.headers['sec-fetch-mode']).toBe('cors');
  });
});
