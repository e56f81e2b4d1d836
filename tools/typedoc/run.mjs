// `npm run docs`: the API reference (docs/api/) from the TSDoc of the public exports. TypeDoc needs
// TypeScript's JS API (5.x/6.x) while the project compiles with TypeScript 7, so it has its own small
// install here (tools/typedoc/package-lock.json), made on first use. Fails on any warning, including an
// export without a doc comment (typedoc.json: treatWarningsAsErrors, validation.notDocumented).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));
const typedoc = fileURLToPath(new URL('node_modules/typedoc/bin/typedoc', import.meta.url));
if (!existsSync(typedoc)) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
}
try {
  execFileSync(process.execPath, [typedoc, '--options', 'typedoc.json', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
} catch (err) {
  process.exitCode = err.status ?? 1;
}
