// `npm run test:unit`: the fast, in-process test suites, for the edit-test loop. `npm test` (all
// suites) stays what CI runs. A suite is left out when it
//   - starts processes (imports node:child_process: the CLI, signals, abort and memory checks),
//   - is the demo's (test/demo-*.test.ts: whole training pipelines), or
//   - calls itself an integration suite (its first line starts with `// Integration`).
// Extra arguments go to `node --test` (e.g. `npm run test:unit -- --test-name-pattern=alpha`).
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Why a suite is not a unit suite, or null when it is one. */
function notUnitBecause(name: string, source: string): string | null {
  if (/from ['"]node:child_process['"]/.test(source)) return 'starts processes';
  if (name.startsWith('demo-')) return 'the demo';
  if (source.startsWith('// Integration')) return 'integration';
  return null;
}

const suites = readdirSync(join(ROOT, 'test'))
  .filter((f) => f.endsWith('.test.ts'))
  .sort();
const unit: string[] = [];
const left: string[] = [];
for (const name of suites) {
  const why = notUnitBecause(name, readFileSync(join(ROOT, 'test', name), 'utf8'));
  if (why === null) unit.push(join('test', name));
  else left.push(`${name} (${why})`);
}
process.stderr.write(`test:unit: ${unit.length} of ${suites.length} suites; left out: ${left.join(', ')}\n`);
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...process.argv.slice(2), ...unit], {
  cwd: ROOT,
  stdio: 'inherit',
});
process.exitCode = run.status ?? 1;
