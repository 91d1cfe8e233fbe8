// A LoRA adapter trained with DPO on the demo's letter-sort task (docs/demo.md), with the
// adapter-off policy as its reference. Held-out reward accuracy (DPO's implicit reward
// β·(log π − log π_ref), as the demo's "held-out acc" column): the SFT model's is 0, since its
// reward against itself is 0 for every response (the demo prints "—"); the full-model DPO row
// of the demo reaches 92.6%. (α-DPO's reward, β·avg log π, is not relative to the reference, so
// on it the SFT model itself already ranks these on-policy pairs almost perfectly.)
// Because beating 0 proves little, the adapter must also rank ≥ 85% of held-out pairs right and
// raise the gold reward of its own samples above the SFT model's (the paired per-prompt gain's
// 95% interval above 0).
// The demo's model and SFT with half its steps and a quarter of its pairs, LoRA r = 8.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { initDemoModel } from '../src/demo/demo-model.js';
import { FULL_SIZES } from '../src/demo/demo-settings.js';
import { createDemoTokenizer } from '../src/demo/demo-tokenizer.js';
import { heldOutRewardAccuracy, samplePolicy } from '../src/demo/evaluate-policy.js';
import { randomPrompt } from '../src/demo/letter-sort-task.js';
import { buildOnPolicyPairs } from '../src/demo/on-policy-pairs.js';
import { supervisedFineTune } from '../src/demo/sft.js';
import { encodePrompt } from '../src/demo/sort-responses.js';
import { mean, meanWithInterval } from '../src/demo/summary-stats.js';
import { AutoModelForCausalLM, LoraAdapter, resolveTrainConfig, trainPreferences } from '../src/index.js';
import { SeededRandom } from '../src/random/seeded-random.js';
import { withTempDir } from './helpers/tmp-dir.js';

describe('LoRA on the demo task', () => {
  test("a DPO LoRA adapter's held-out reward accuracy (≥ 85%) beats the SFT model's (0), and so does its gold reward", async () => {
    await withTempDir('alpha-dpo-lora-demo-', async (dir) => {
      const seed = 0;
      const sizes = FULL_SIZES;
      const tokenizer = await createDemoTokenizer(`${dir}/tokenizer`);
      const sft = initDemoModel(sizes.model, seed);
      supervisedFineTune(sft, tokenizer, { ...sizes.sft, steps: 200, warmupRatio: 0.05, weightDecay: 0.01, maxGradNorm: 1, seed });
      sft.eval();
      await sft.savePretrained(`${dir}/sft`, { tokenizer });
      const prompts = (stream: number, n: number) => {
        const rng = SeededRandom.forStream(seed, stream);
        return Array.from({ length: n }, () => randomPrompt(rng));
      };
      const pairsOf = (stream: number, n: number, samplingSeed: number, split: 'train' | 'held_out') => {
        const set = prompts(stream, n);
        const ids = set.map((p) => encodePrompt(tokenizer, p));
        return buildOnPolicyPairs(sft, set, ids, {
          samplesPerPrompt: sizes.samplesPerPrompt,
          maxNewTokens: sizes.maxNewTokens,
          seed: samplingSeed,
          split,
        }).pairs;
      };
      const train = pairsOf(2, 512, 1, 'train');
      const heldOut = pairsOf(3, 128, 2, 'held_out');

      const config = resolveTrainConfig({
        loss_type: 'sigmoid',
        beta: 0.1,
        learning_rate: 5e-3,
        max_steps: 64,
        per_device_train_batch_size: 16,
        lr_scheduler_type: 'cosine',
        warmup_ratio: 0.1,
        seed,
        save_strategy: 'no',
        logging_steps: 64,
      });
      const policy = await AutoModelForCausalLM.fromPretrained(`${dir}/sft`);
      LoraAdapter.attach(policy, {
        r: 8,
        lora_alpha: 16,
        lora_dropout: 0,
        target_modules: 'all-linear',
        modules_to_save: null,
        use_rslora: false,
      });
      await trainPreferences(config, { policy, reference: null, tokenizer, train }, { quiet: true, log: () => {} });
      policy.eval();
      const loss = { lossType: 'sigmoid' as const, config: config.loss, ln: false, needsReference: true };
      const adapterAccuracy = heldOutRewardAccuracy(policy, sft, heldOut, loss);
      const sftAccuracy = heldOutRewardAccuracy(sft, sft, heldOut, loss);
      assert.equal(sftAccuracy, 0, "the SFT model's implicit reward against itself is 0 for every response");
      assert.ok(adapterAccuracy >= 0.85, `held-out reward accuracy of the adapter ${adapterAccuracy.toFixed(3)} (${heldOut.length} pairs)`);
      const evalPrompts = prompts(4, 128);
      const evalIds = evalPrompts.map((p) => encodePrompt(tokenizer, p));
      const sampling = { samplesPerPrompt: 4, maxNewTokens: sizes.maxNewTokens, seed: 3 };
      // Per prompt, the adapter's mean gold reward minus the SFT model's (same sampling seed: paired).
      const gold = (m: typeof sft) => samplePolicy(m, evalPrompts, evalIds, sampling).rewards.map(mean);
      const [lora, base] = [gold(policy), gold(sft)];
      const gain = meanWithInterval(lora.map((r, i) => r - (base[i] as number)));
      assert.ok(
        gain.mean - gain.halfWidth95 > 0,
        `gold reward gain over SFT ${gain.mean.toFixed(3)} ± ${gain.halfWidth95.toFixed(3)} (SFT ${mean(base).toFixed(3)}, LoRA ${mean(lora).toFixed(3)})`,
      );
      policy.dispose();
      sft.dispose();
    });
  });
});
