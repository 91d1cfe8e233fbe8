// postinstall: applies the fixes in patches/ to installed dependencies with patch-package
// (patches/README.md says what each one fixes and why). In a checkout of this repository
// (npm ci, scripts/setup.sh, CI) a patch that no longer applies fails the install. Installed as
// a dependency of another project, neither patches/ nor patch-package is present: say so.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = join(root, 'node_modules', 'patch-package', 'index.js');
if (!existsSync(join(root, 'patches')) || !existsSync(bin)) {
  console.warn('alpha-dpo: patches/ not applied (not a development checkout); see patches/README.md in the repository');
  process.exit(0);
}
const run = spawnSync(process.execPath, [bin, '--error-on-fail'], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
