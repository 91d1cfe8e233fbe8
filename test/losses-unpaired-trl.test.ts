// The unpaired fixture (test/fixtures/losses.json, "unpaired") against TRL's own code:
// scripts/fixtures/check_kto_trl.py runs TRL 1.13's KTOTrainer._compute_loss on the fixture's
// numbers through a stand-in model and compares its loss and logged metrics at relative 1e-9.
// Skipped, with the reason, without a Python that has TRL.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const cases = (JSON.parse(readFileSync(join(here, 'fixtures', 'losses.json'), 'utf8')) as { unpaired: { cases: unknown[] } }).unpaired
  .cases;

describe("the fixture against TRL's own KTOTrainer", () => {
  // scripts/fixtures/check_kto_trl.py runs TRL's KTOTrainer._compute_loss (TRL ≥ 1.13) on the
  // fixture's numbers through a stand-in model and compares its loss and logged metrics at 1e-9.
  const candidates = process.env.ALPHA_DPO_TRL_PYTHON ? [process.env.ALPHA_DPO_TRL_PYTHON] : ['/work/venv/bin/python'];
  const python = candidates.find((p) => existsSync(p));
  const script = join(here, '..', 'scripts', 'fixtures', 'check_kto_trl.py');
  test(
    'every unpaired case: TRL computes the same loss and metrics',
    { skip: python === undefined ? `no Python with TRL among ${candidates.join(', ')} (set ALPHA_DPO_TRL_PYTHON)` : false },
    (t) => {
      const run = spawnSync(python as string, [script], { encoding: 'utf8' });
      if (run.status === 77) {
        t.skip(`${python}: ${run.stdout.trim()}`);
        return;
      }
      assert.equal(run.status, 0, run.stdout + run.stderr);
      assert.equal(
        run.stdout
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('ok ')).length,
        cases.length,
        run.stdout,
      );
    },
  );
});
