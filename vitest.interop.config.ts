import { defineConfig } from 'vitest/config';
import { sourceAlias } from './vitest.config.js';

// Interop with independent OPs (test/interop/ops/: LemonLDAP::NG and Glewlwyd on loopback, installed with apt
// when missing) in Debian's Chromium. One file at a time: side by side, on 2 cores, the OPs' first answers
// come too late (each file has its own ports, so they could).
export default defineConfig({
  resolve: { alias: sourceAlias },
  test: {
    include: ['test/interop/**/*.test.ts'],
    testTimeout: 60_000,
    // the first start of an OP installs its packages
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
