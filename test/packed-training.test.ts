// The trainer with prefix sharing, padding-free batches and the chunked LM head on gives the
// plain run's losses and gradients (the plain run: all three off, one forward of the padded
// batch to full logits, the path the loss fixtures check against PyTorch), for losses on sums
// and on averages, the per-token ones (LD-DPO's ld_alpha, WPO), with gradient accumulation and
// with precomputed reference log-probs; and changing the switches does not block a resume.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Tensor } from '../src/index.js';
import { resolveTrainConfig, type TrainConfig, trainPreferences } from '../src/train/index.js';
import { configDifferences, storedConfig } from '../src/train/restore.js';
import { makePairs, tinyModel } from './helpers/tiny-training.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const tempDir = tempDirsRemovedAfterAll('alpha-dpo-packed-');

const PLAIN = { prefix_sharing: false, padding_free: false, vocab_chunk_size: 0 };
const PACKED = { prefix_sharing: true, padding_free: true, vocab_chunk_size: 64 };

function config(overrides: Record<string, unknown>): TrainConfig {
  return resolveTrainConfig({
    beta: 0.1,
    learning_rate: 1e-3,
    lr_scheduler_type: 'constant',
    per_device_train_batch_size: 2,
    gradient_accumulation_steps: 2,
    max_steps: 3,
    logging_steps: 1,
    save_strategy: 'no',
    shuffle: false,
    seed: 7,
    ...overrides,
  });
}

/** Step losses and the first step's accumulated gradients (flattened). */
async function run(overrides: Record<string, unknown>): Promise<{ losses: number[]; grad: number[] }> {
  const policy = tinyModel(1);
  const reference = tinyModel(2);
  let grad: number[] = [];
  const summary = await trainPreferences(
    config(overrides),
    { policy, reference, train: makePairs(12, 3) },
    {
      quiet: true,
      onGradients: (step, params: readonly Tensor[]) => {
        if (step !== 1) return;
        grad = params.flatMap((p) => {
          const g = p.grad as Tensor;
          const values = g.toNumbers();
          g.dispose();
          return values;
        });
      },
    },
  );
  policy.dispose();
  reference.dispose();
  return { losses: summary.stepLosses, grad };
}

function assertSameRun(got: { losses: number[]; grad: number[] }, want: { losses: number[]; grad: number[] }, what: string): void {
  got.losses.forEach((l, i) => {
    const w = want.losses[i] as number;
    assert.ok(Math.abs(l - w) <= 1e-5 * Math.max(1, Math.abs(w)), `${what}: step ${i + 1} loss ${l}, plain ${w}`);
  });
  const scale = Math.max(...want.grad.map(Math.abs));
  const worst = Math.max(...got.grad.map((g, i) => Math.abs(g - (want.grad[i] as number))));
  // float32 sums in another order: the gradient agrees to ~1e-6 of its largest entry.
  assert.ok(scale > 0 && worst <= 2e-5 * scale, `${what}: gradient differs by ${worst} (scale ${scale})`);
}

describe('trainer with prefix sharing, padding-free and the chunked LM head', () => {
  const losses: [string, Record<string, unknown>][] = [
    ['sigmoid DPO (sums)', { loss_type: 'sigmoid' }],
    ['alpha-dpo (averages, running statistics)', { loss_type: 'alpha-dpo', alpha: 0.1, gamma_beta_ratio: 0.5, beta: 2 }],
    ['LD-DPO (per-token ld_alpha)', { loss_type: 'sigmoid', ld_alpha: 0.5 }],
    ['WPO (use_weighting)', { loss_type: 'sigmoid', use_weighting: true }],
    ['SimPO (no reference)', { loss_type: 'simpo', beta: 2 }],
  ];
  for (const [what, loss] of losses) {
    test(`${what}: losses and accumulated gradients equal the plain run's`, async () => {
      const want = await run({ ...loss, ...PLAIN });
      assertSameRun(await run({ ...loss, ...PACKED }), want, what);
    });
  }

  test("precomputed reference log-probs from a packed pass equal the plain live reference's", async () => {
    process.env.ALPHA_DPO_CACHE = await tempDir();
    const want = await run({ loss_type: 'sigmoid', ...PLAIN });
    assertSameRun(await run({ loss_type: 'sigmoid', precompute_ref_log_probs: true, ...PACKED }), want, 'precompute_ref_log_probs');
  });

  test('a checkpoint written before these keys existed, or with other values, still resumes', () => {
    const now = config({ loss_type: 'sigmoid', ...PACKED });
    const older = storedConfig(config({ loss_type: 'sigmoid', ...PLAIN }));
    assert.deepEqual(configDifferences(older, now), []);
    for (const key of ['prefix_sharing', 'padding_free', 'vocab_chunk_size']) delete older[key];
    assert.deepEqual(configDifferences(older, now), []);
    // A key that does change the training is still reported.
    assert.deepEqual(
      configDifferences(storedConfig(config({ loss_type: 'sigmoid', beta: 0.2 })), now).map((d) => d.key),
      ['beta'],
    );
  });

  test("a key the checkpoint's version did not know is compared with its default: absent equals the default, anything else is reported", () => {
    const now = config({ loss_type: 'sigmoid', ...PLAIN });
    const older = storedConfig(now);
    // Keys added after the first release (bf16 mixed precision, LoRA, distributed, unpaired data).
    for (const key of ['bf16', 'ref_model_dtype', 'use_peft', 'lora_r', 'ddp_timeout', 'label_key']) {
      assert.ok(key in older || Object.values(older).some((v) => v !== null && typeof v === 'object' && key in v), `${key} is stored`);
      delete older[key];
      for (const v of Object.values(older)) if (v !== null && typeof v === 'object') delete (v as Record<string, unknown>)[key];
    }
    assert.deepEqual(configDifferences(older, now), []);
    // The same absent key against a non-default value now: that run would not continue the old one.
    assert.deepEqual(
      configDifferences(older, config({ loss_type: 'sigmoid', ...PLAIN, bf16: true })).map((d) => [d.key, d.saved, d.now]),
      [['bf16', 'false', 'true']],
    );
  });

  test('padding_free is no longer refused as unsupported, and vocab_chunk_size must be a whole number ≥ 0', () => {
    assert.equal(config({ loss_type: 'sigmoid', padding_free: true }).padding_free, true);
    assert.throws(() => config({ loss_type: 'sigmoid', vocab_chunk_size: -1 }), /vocab_chunk_size/);
    assert.throws(() => config({ loss_type: 'sigmoid', vocab_chunk_size: 1.5 }), /vocab_chunk_size/);
  });
});
