// Gradient checkpointing (torch.checkpoint, CausalLM.gradientCheckpointing, the trainer's
// gradient_checkpointing key): the replay in backward recomputes exactly what the forward
// computed (same operations, same RNG state for dropout, same autocast state), so the gradients
// equal the plain run's. The expected values are the plain run's own gradients; the bound is
// float32 round-off (2⁻²³ relative), far below any real difference.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CausalLM, PRESETS, type PresetName, randomInit, type Tensor, torch } from '../src/index.js';
import { sequenceLogps } from '../src/losses/sequence-logps.js';
import { resolveTrainConfig, trainPreferences } from '../src/train/index.js';
import { makePairs, tinyModel } from './helpers/tiny-training.js';

const ROUND_OFF = 2 ** -23;

function maxRelativeDifference(a: readonly Tensor[], b: readonly Tensor[]): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    worst = Math.max(
      worst,
      torch.tidy(
        () =>
          (a[i] as Tensor)
            .sub(b[i] as Tensor)
            .abs()
            .max()
            .item() / Math.max((b[i] as Tensor).abs().max().item(), 1e-30),
      ),
    );
  }
  return worst;
}

/** Gradients of every parameter after `passes` forward+backward passes (accumulated), with or without checkpointing. */
function gradients(
  model: CausalLM,
  ids: Tensor,
  labels: Tensor,
  options: { checkpointing: boolean; passes?: number; bf16?: boolean; seed?: number },
) {
  for (const p of model.parameters()) p.grad = null;
  model.gradientCheckpointing = options.checkpointing;
  torch.manualSeed(options.seed ?? 5); // dropout masks start from the same state in both runs
  for (let k = 0; k < (options.passes ?? 1); k++) {
    torch.tidy(() => {
      const score = () => sequenceLogps(model.forward(ids), labels, { average: true });
      const s = options.bf16 ? torch.autocast('cpu', 'bfloat16', score) : score();
      s.mul(k + 1)
        .sum()
        .backward();
    });
  }
  model.gradientCheckpointing = false;
  return model.parameters().map((p) => p.grad as Tensor);
}

function inputs(): { ids: Tensor; labels: Tensor } {
  torch.manualSeed(2);
  const ids = torch.randint(3, 200, [2, 12], { dtype: 'int64' });
  return { ids, labels: torch.where(torch.arange(12).lt(4).unsqueeze(0), -100, ids) };
}

describe('gradient checkpointing gives the plain gradients', () => {
  const cases: [PresetName, Record<string, unknown>][] = [
    ['gpt2-tiny', { resid_pdrop: 0.1, embd_pdrop: 0.1, attn_pdrop: 0.1 }],
    ['llama-tiny', { attention_dropout: 0.1 }],
    ['gemma2-tiny', {}],
  ];
  for (const [preset, dropout] of cases) {
    test(`${preset}: with dropout on, two accumulated passes, float32 and bf16 autocast`, () => {
      torch.manualSeed(1);
      const model = randomInit({ ...PRESETS[preset], ...dropout });
      model.train(true);
      const { ids, labels } = inputs();
      for (const bf16 of [false, true]) {
        const plain = gradients(model, ids, labels, { checkpointing: false, passes: 2, bf16 });
        const replayed = gradients(model, ids, labels, { checkpointing: true, passes: 2, bf16 });
        const d = maxRelativeDifference(replayed, plain);
        assert.ok(d <= 4 * ROUND_OFF, `${bf16 ? 'bf16' : 'float32'}: max relative gradient difference ${d}`);
        // Another seed draws other dropout masks: the comparison above can tell masks apart.
        if (Object.keys(dropout).length > 0 && !bf16) {
          const other = gradients(model, ids, labels, { checkpointing: false, passes: 2, seed: 6 });
          assert.ok(maxRelativeDifference(other, plain) > 1e-3, 'dropout masks change the gradients');
        }
      }
      model.dispose();
    });
  }

  test('no recording without gradients: under noGrad the output has no gradient function', () => {
    const model = tinyModel(1);
    model.gradientCheckpointing = true;
    const { ids } = inputs();
    const out = torch.noGrad(() => model.forward(ids));
    assert.equal(out.gradFn, null);
    model.dispose();
  });

  test('an error thrown in the replay reaches backward() and leaves autocast and gradient mode as they were', () => {
    const w = torch.randn([3, 3], { requiresGrad: true });
    const x = torch.randn([2, 3], { requiresGrad: true });
    let calls = 0;
    const y = torch.checkpoint((h) => {
      calls += 1;
      if (calls === 2) throw new RangeError('replay failed');
      return h.matmul(w).tanh();
    }, x);
    assert.equal(y.gradFn, 'CheckpointBackward');
    assert.throws(() => y.sum().backward(), /replay failed/);
    assert.equal(torch.autocastState('cpu').enabled, false);
    assert.equal(torch.isGradEnabled(), true);
    // And a replay that works gives x.grad = (1 − tanh²(xW))·Wᵀ summed, as the plain computation.
    const z = torch.checkpoint((h) => h.matmul(w).tanh(), x);
    z.sum().backward();
    const viaCheckpoint = (x.grad as Tensor).clone();
    x.grad = null;
    x.matmul(w).tanh().sum().backward();
    assert.ok(maxRelativeDifference([viaCheckpoint], [x.grad as unknown as Tensor]) <= ROUND_OFF);
  });
});

describe('the trainer with gradient_checkpointing: true', () => {
  test('the same step losses as without, with a live reference model and gradient accumulation', async () => {
    const losses: number[][] = [];
    for (const gradient_checkpointing of [false, true]) {
      const policy = tinyModel(1);
      const reference = tinyModel(1);
      const config = resolveTrainConfig({
        loss_type: 'sigmoid',
        beta: 0.1,
        learning_rate: 1e-3,
        per_device_train_batch_size: 2,
        gradient_accumulation_steps: 2,
        max_steps: 3,
        logging_steps: 1,
        save_strategy: 'no',
        seed: 7,
        gradient_checkpointing,
      });
      const summary = await trainPreferences(config, { policy, reference, train: makePairs(12, 1) }, { quiet: true });
      losses.push(summary.stepLosses);
      policy.dispose();
      reference.dispose();
    }
    const [plain, checkpointed] = losses as [number[], number[]];
    assert.equal(checkpointed.length, 3);
    for (let s = 0; s < 3; s++) {
      assert.ok(Math.abs((checkpointed[s] as number) - (plain[s] as number)) <= 1e-6 * Math.abs(plain[s] as number), `step ${s + 1}`);
    }
  });
});
