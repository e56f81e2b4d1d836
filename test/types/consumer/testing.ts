// Compiled against the packed tarball with skipLibCheck: false and no @types for oidc-provider.
import express from 'express';
import request from 'supertest';
import { createTestIdp, loginAs } from 'oidc-session/testing';
import type { TestIdp } from 'oidc-session/testing';

export async function check(): Promise<void> {
  const idp: TestIdp = await createTestIdp({ clients: [{ client_id: 'app', client_secret: 's', redirect_uris: ['http://127.0.0.1:3000/callback'] }] });
  const issuer: string = idp.provider.issuer;
  const app = express();
  const agent = request.agent(app);
  await loginAs(agent, idp, 'alice');
  await idp.close();
  void issuer;
}
