import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

/** `oidc-session/<entry>` means the source in this repository (see tsconfig.json "paths"). */
export const sourceAlias = [
  { find: /^oidc-session$/, replacement: fileURLToPath(new URL('./lib/index.ts', import.meta.url)) },
  { find: /^oidc-session\/(.+)$/, replacement: fileURLToPath(new URL('./lib/', import.meta.url)) + '$1/index.ts' },
];

export default defineConfig({
  resolve: { alias: sourceAlias },
  test: {
    include: ['test/**/*.test.ts'],
    // real-browser tests: `npm run test:browser` (vitest.browser.config.ts); interop: `npm run test:interop`
    exclude: ['test/browser/**', 'test/interop/**', '**/node_modules/**'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Drops oidc-provider's "Unsupported runtime, use Node.js v22" line from every test file's output.
    setupFiles: ['example-app/quiet-runtime-warning.ts'],
    reporters: ['default'],
  },
});
