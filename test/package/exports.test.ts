import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function node(code: string, type: 'commonjs' | 'module'): string {
  const args = type === 'module' ? ['--input-type=module', '-e', code] : ['-e', code];
  return execFileSync(process.execPath, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

describe('the published package', () => {
  beforeAll(() => {
    // dist is built by `npm pack` (prepack), not at install; build it here so the test stands alone.
    execFileSync(process.execPath, [fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], { cwd: root });
    expect(existsSync(new URL('../../dist/express/index.js', import.meta.url))).toBe(true);
  }, 60_000);

  it('is importable as ESM by its public names', () => {
    const out = node(
      "const e = await import('oidc-session/express'); const t = await import('oidc-session/testing'); const r = await import('oidc-session');" +
        "console.log([typeof e.oidc, typeof e.requireRoles, typeof e.OidcError, typeof t.createTestIdp, typeof r.OidcError].join(','))",
      'module',
    );
    expect(out).toBe('function,function,function,function,function');
  });

  it('exposes the Koa adapter under the same names', () => {
    const out = node(
      "const k = await import('oidc-session/koa');" +
        "console.log([typeof k.oidc, typeof k.requireRoles, typeof k.claimEquals, typeof k.OidcError, typeof k.OidcState].join(','))",
      'module',
    );
    expect(out).toBe('function,function,function,function,function');
    expect(node("const { oidc } = require('oidc-session/koa'); console.log(typeof oidc)", 'commonjs')).toBe('function');
  });

  it('is require()-able from a CommonJS app (Node >= 20.19)', () => {
    const out = node("const { oidc } = require('oidc-session/express'); console.log(typeof oidc)", 'commonjs');
    expect(out).toBe('function');
  });

  it('ships no source maps (they would point at lib/*.ts, which is not shipped) and builds at pack time, not install', () => {
    const files = readdirSync(new URL('../../dist/', import.meta.url), { recursive: true }) as string[];
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prepare).toBeUndefined();
    expect(pkg.scripts.prepack).toBe('npm run build');
  });

  it('keeps lib/core free of framework imports', () => {
    const dir = new URL('../../lib/core/', import.meta.url);
    const offenders = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts'))
      .filter((file) => /from '(express|koa|express-session|koa-session)(\/[^']*)?'/.test(readFileSync(new URL(file, dir), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
