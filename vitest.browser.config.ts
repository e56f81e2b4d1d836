import { defineConfig } from 'vitest/config';
import { sourceAlias } from './vitest.config.js';

// Real-browser tests (Debian's /usr/bin/chromium through playwright-core): one file at a time, slower steps.
export default defineConfig({
  resolve: { alias: sourceAlias },
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    pool: 'forks',
    // Drops oidc-provider's "Unsupported runtime, use Node.js v22" line from every test file's output.
    setupFiles: ['example-app/quiet-runtime-warning.ts'],
    reporters: ['default'],
  },
});
