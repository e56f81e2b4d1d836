import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RequestListener, Server } from 'node:http';
import { createTestIdp } from '../../lib/testing/index.js';
import type { TestIdp, TestIdpOptions } from '../../lib/testing/index.js';
import { createRp } from './rp-app.js';
import type { Adapter, RpApp, RpOptions, TestRoute } from './rp-app.js';

export interface LiveRp extends RpApp {
  baseUrl: string;
  idp: TestIdp;
  close(): Promise<void>;
}

export interface RpServer {
  baseUrl: string;
  /** Serve this app from now on (the server starts before the app exists, so the IdP can know its URL). */
  serve(app: unknown): void;
  close(): Promise<void>;
}

/** An HTTP server on 127.0.0.1:0 whose app is plugged in later. */
export async function startRpServer(): Promise<RpServer> {
  let handler: RequestListener = (_req, res) => res.end();
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    serve: (app) => {
      handler = app as RequestListener;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A real RP server on 127.0.0.1:0 and the embedded oidc-provider with a client registered for that
 * port (redirect, post-logout and back-channel URIs), so the IdP can reach the RP like in production.
 */
export async function startLiveRp(
  options: RpOptions = {},
  idpOptions: Partial<TestIdpOptions> = {},
  adapter: Adapter = 'express5',
  routes: TestRoute[] = [],
): Promise<LiveRp> {
  const server = await startRpServer();
  const { baseUrl } = server;
  const idp = await createTestIdp({
    clients: [
      {
        client_id: 'rp',
        client_secret: 'rp-secret',
        redirect_uris: [`${baseUrl}/callback`],
        post_logout_redirect_uris: [`${baseUrl}/`],
        backchannel_logout_uri: `${baseUrl}/backchannel-logout`,
      },
    ],
    ...idpOptions,
  });
  const rp = createRp(adapter, { issuer: idp.issuer, baseUrl, ...options }, routes);
  server.serve(rp.app);
  return {
    ...rp,
    baseUrl,
    idp,
    close: async () => {
      await server.close();
      await idp.close();
    },
  };
}
