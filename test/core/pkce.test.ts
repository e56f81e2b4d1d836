import { describe, expect, it } from 'vitest';
import * as client from 'openid-client';
import { pkceChallenge } from '../../lib/core/login/authorization-request.js';

describe('PKCE S256 challenge', () => {
  it("equals openid-client's calculatePKCECodeChallenge() for random verifiers", async () => {
    for (let i = 0; i < 20; i++) {
      const verifier = client.randomPKCECodeVerifier();
      expect(pkceChallenge(verifier)).toBe(await client.calculatePKCECodeChallenge(verifier));
    }
  });
});
