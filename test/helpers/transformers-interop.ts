// What the transformers-parity suites share: the relative logits error they bound, and the Pythons
// with transformers that the reverse-direction tests run (skipped, with the reason, without one).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { type Tensor, torch } from '../../src/index.js';

/** max |actual − want| / max |want|, in float64. */
export function relativeError(actual: Tensor, want: Tensor): number {
  return torch.tidy(() => {
    const a = actual.to('float64');
    const e = want.to('float64');
    return a.sub(e).abs().max().item() / e.abs().max().item();
  });
}

/** Pythons with transformers: ALPHA_DPO_TRANSFORMERS_PYTHON (paths separated by ':'), else the machine's known venvs. */
export function transformersPythons(): { pythons: string[]; reason: string } {
  const env = process.env['ALPHA_DPO_TRANSFORMERS_PYTHON'];
  const candidates = env ? env.split(':').filter((p) => p !== '') : ['/work/venv/bin/python', '/work/venv-tf4/bin/python'];
  const pythons = candidates.filter(
    (p) => existsSync(p) && spawnSync(p, ['-c', 'import transformers, safetensors, torch'], { stdio: 'ignore' }).status === 0,
  );
  return {
    pythons,
    reason: `no Python with transformers, torch and safetensors among ${candidates.join(', ')} (set ALPHA_DPO_TRANSFORMERS_PYTHON)`,
  };
}
