// `npm run test:types`: the type tests of issue 13, compiled as a consumer would compile them. Packs the
// package (npm pack, which builds dist through prepack), installs the tarball's files into a scratch
// project whose other dependencies are links to this repository's node_modules, and runs tsc over
// test/types/consumer with skipLibCheck: false, once for NodeNext and once for bundler resolution.
// The compilation is the assertion: an @ts-expect-error that is not an error fails it too.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), 'oidc-session-types-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });

try {
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', scratch], root));
  const tarball = join(scratch, packed.filename);
  const consumer = join(scratch, 'consumer');
  const modules = join(consumer, 'node_modules');
  mkdirSync(join(modules, 'oidc-session'), { recursive: true });
  run('tar', ['-xzf', tarball, '-C', join(modules, 'oidc-session'), '--strip-components=1'], scratch);
  // The consumer's other dependencies: express, koa, their @types, supertest... but never this repo's
  // own sources (nothing resolves into lib/), and no @types package the README does not list.
  const rootModules = join(root, 'node_modules');
  const NOT_LINKED = new Set(['oidc-session', '.bin', '.package-lock.json', '@types']);
  for (const entry of readdirSync(rootModules)) {
    if (!NOT_LINKED.has(entry)) symlinkSync(join(rootModules, entry), join(modules, entry));
  }
  mkdirSync(join(modules, '@types'));
  // @types/node, and the framework types an Express or Koa app has anyway (with what they depend on).
  for (const entry of readdirSync(join(rootModules, '@types'))) {
    if (entry !== 'debug') symlinkSync(join(rootModules, '@types', entry), join(modules, '@types', entry));
  }
  cpSync(join(root, 'test/types/consumer'), join(consumer, 'src'), { recursive: true });
  // The README's five-minute snippet, exactly as written, compiles too.
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const step = readme.slice(readme.indexOf('**2. Install and mount**'));
  const snippet = /```ts\n([\s\S]*?)```/.exec(step)?.[1];
  if (!snippet) throw new Error('README.md: no TypeScript block after "2. Install and mount"');
  writeFileSync(join(consumer, 'src', 'readme-five-minutes.ts'), snippet);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const common = { strict: true, skipLibCheck: false, noEmit: true, target: 'ES2022', lib: ['ES2022'], types: ['node'], esModuleInterop: true };
  const variants = {
    'tsconfig.nodenext.json': { ...common, module: 'NodeNext', moduleResolution: 'NodeNext' },
    'tsconfig.bundler.json': { ...common, module: 'ESNext', moduleResolution: 'Bundler' },
  };
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  for (const [file, compilerOptions] of Object.entries(variants)) {
    writeFileSync(join(consumer, file), JSON.stringify({ compilerOptions, include: ['src'] }, null, 2));
    process.stdout.write(`tsc -p ${file} (skipLibCheck: false) over ${packed.filename} ... `);
    let output = '';
    try {
      run(process.execPath, [tsc, '-p', file], consumer);
    } catch (err) {
      output = String(err.stdout);
    }
    const errors = output.split('\n').filter((line) => /error TS\d+/.test(line));
    // Not ours: with express 5 and koa in one tree, content-disposition 2 (which ships its own types) is
    // hoisted and @types/koa's reference to its 0.5 API no longer matches. A Koa-only app does not see it.
    const ours = errors.filter((line) => !/node_modules\/@types\/koa\/index\.d\.ts.*content-disposition/.test(line));
    if (ours.length) {
      console.log('FAILED');
      console.log(output);
      process.exitCode = 1;
      continue;
    }
    console.log(errors.length ? `ok (ignored, not ours: ${errors.join('; ')})` : 'ok');
  }
  const maps = packed.files.filter((f) => f.path.endsWith('.map'));
  if (maps.length) {
    console.log(`the tarball ships ${maps.length} source maps pointing at unshipped sources`);
    process.exitCode = 1;
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
