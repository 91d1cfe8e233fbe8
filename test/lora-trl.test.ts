// A LoRA DPO run here against TRL's DPOTrainer + PEFT from the same base weights, the same
// starting adapter (saved here, loaded by both), the same token-id pairs and settings: the
// first steps' losses agree (skipped, with the reason, without a Python that has TRL and PEFT).
// Measured on this machine (TRL 1.13, PEFT 0.21, torch 2.13 CPU): largest |difference| 6.0e-8
// over 6 steps (losses 0.693147 → 0.462190 at lr 1e-2), float32 round-off; the bound is 1e-5.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoModelForCausalLM, LoraAdapter, PRESETS, randomInit, saveAdapter, torch } from '../src/index.js';
import { resolveTrainConfig, trainPreferences } from '../src/train/index.js';
import { makePairs } from './helpers/tiny-training.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';
import { transformersPythons } from './helpers/transformers-interop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const tempDir = tempDirsRemovedAfterAll('alpha-dpo-lora-trl-');
const STEPS = 6;
const LR = 1e-2;

function trlPython(): { python: string | null; reason: string } {
  const { pythons, reason } = transformersPythons();
  const python = pythons.find((p) => spawnSync(p, ['-c', 'import trl, peft, datasets'], { stdio: 'ignore' }).status === 0) ?? null;
  return { python, reason: pythons.length === 0 ? reason : `no Python with TRL, PEFT and datasets among ${pythons.join(', ')}` };
}

describe('LoRA DPO against TRL DPOTrainer + PEFT', () => {
  const { python, reason } = trlPython();
  test(`the first ${STEPS} losses agree within 1e-5`, { skip: python === null ? reason : false }, async (t) => {
    torch.manualSeed(11);
    const base = randomInit({ ...PRESETS['llama-tiny'], vocab_size: 272 });
    const baseDir = await tempDir();
    await base.savePretrained(baseDir);
    torch.manualSeed(12);
    const adapter = LoraAdapter.attach(base, {
      r: 8,
      lora_alpha: 16,
      lora_dropout: 0,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      modules_to_save: null,
      use_rslora: false,
    });
    const adapterDir = await tempDir();
    await saveAdapter(adapter, adapterDir);
    base.dispose();

    const pairs = makePairs(4, 21);
    const pairsFile = join(await tempDir(), 'pairs.json');
    await writeFile(
      pairsFile,
      JSON.stringify(
        pairs.map((p) => ({
          prompt_ids: [...p.chosen.prompt],
          chosen_ids: [...p.chosen.completion],
          rejected_ids: [...p.rejected.completion],
        })),
      ),
    );
    const outFile = join(await tempDir(), 'trl.json');
    const tokenizerDir = join(HERE, 'fixtures', 'models', 'tokenizer-chatml');
    const run = spawnSync(
      python as string,
      [
        join(HERE, '..', 'scripts', 'fixtures', 'trl_lora_dpo.py'),
        baseDir,
        adapterDir,
        pairsFile,
        outFile,
        String(STEPS),
        String(LR),
        tokenizerDir,
      ],
      { encoding: 'utf8' },
    );
    assert.equal(run.status, 0, run.stderr.slice(-3000));
    const theirs = JSON.parse(await readFile(outFile, 'utf8')) as { losses: number[]; trl: string; peft: string };

    const policy = await AutoModelForCausalLM.fromPretrained(baseDir, { adapter: adapterDir });
    const config = resolveTrainConfig({
      loss_type: 'sigmoid',
      beta: 0.1,
      learning_rate: LR,
      lr_scheduler_type: 'constant',
      weight_decay: 0,
      max_grad_norm: 1,
      per_device_train_batch_size: pairs.length,
      max_steps: STEPS,
      shuffle: false,
      save_strategy: 'no',
      logging_steps: 1,
    });
    const ours = await trainPreferences(config, { policy, reference: null, train: pairs }, { quiet: true });
    policy.dispose();
    assert.equal(theirs.losses.length, STEPS, JSON.stringify(theirs));
    const diffs = ours.stepLosses.map((l, i) => Math.abs(l - (theirs.losses[i] as number)));
    t.diagnostic(
      `largest |ours − TRL ${theirs.trl}| over ${STEPS} steps: ${Math.max(...diffs).toExponential(2)}; losses ${ours.stepLosses.map((x) => x.toFixed(6)).join(' ')}`,
    );
    assert.ok(
      Math.max(...diffs) <= 1e-5,
      `ours ${ours.stepLosses.map((x) => x.toFixed(7)).join(' ')}\nTRL ${theirs.trl} ${theirs.losses.map((x) => x.toFixed(7)).join(' ')}`,
    );
    assert.ok((ours.stepLosses.at(-1) as number) < (ours.stepLosses[0] as number) - 1e-3, 'the loss moves over these steps');
  });
});
