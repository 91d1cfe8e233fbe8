// The config engine (src/config/) as a user meets it through the training, loss, data and model
// configs: every mistake reported at once, suggestions that make sense, null to unset a key,
// config-only rules checked at resolve time, one error hierarchy, and types derived from schemas.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, type SchemaValues, suggestNames } from '../src/config/index.js';
import { type DataConfig, resolveDataConfig } from '../src/data/data-config.js';
import { BadRowError, DataConfigError, DataError } from '../src/data/errors.js';
import { AlphaDpoError } from '../src/errors.js';
import { AddonLoadError, TorchError, torch } from '../src/index.js';
import { type CONFIG_SCHEMA, isResolvedLossConfig, type ResolvedLossConfig, resolveLossConfig } from '../src/losses/config.js';
import { LossConfigError, LossError, LossInputError } from '../src/losses/errors.js';
import { planLoss } from '../src/losses/loss-plan.js';
import { resolveConfig } from '../src/models/config-schema.js';
import { ModelConfigError } from '../src/models/errors.js';
import { GPT2_CONFIG_SCHEMA } from '../src/models/gpt2.js';
import {
  ALL_CONFIG_KEYS,
  mergeTrainConfigSources,
  parseOverrides,
  type ReportTarget,
  resolveTrainConfig,
  TRAIN_KEYS,
  type TrainConfig,
  TrainConfigError,
  trainConfigHelp,
} from '../src/train/train-config.js';

/** The error `run` throws (fails the test if it throws nothing). */
function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}

describe('every mistake at once', () => {
  test('unknown, unsupported, mistyped, out-of-range and ineffective keys in one TrainConfigError', () => {
    const e = thrown(() =>
      resolveTrainConfig(
        {
          loss_type: 'sigmoid',
          beta: 0.1,
          learning_rat: 1e-6,
          use_dora: true,
          target_modules: ['q_proj'],
          warmup_ratio: 2,
          max_lenght: 512,
          shuffle: 'yes',
          alpha: 0.1,
        },
        { where: 'run.yaml' },
      ),
    );
    assert.ok(e instanceof TrainConfigError && e instanceof ConfigError && e instanceof AlphaDpoError);
    // Seven mistakes, seven problems: unknown keys first, then each schema's checks, then the loss's rules.
    assert.deepEqual(
      e.problems.map((p) => p.key),
      ['learning_rat', 'use_dora', 'target_modules', 'max_lenght', 'warmup_ratio', 'shuffle', 'alpha'],
    );
    assert.ok(e.problems.every((p) => p.where === 'run.yaml'));
    assert.ok(e.problems.find((p) => p.key === 'shuffle') instanceof DataConfigError, "a data key's problem keeps its class");
    assert.ok(e.problems.find((p) => p.key === 'alpha') instanceof LossConfigError, "a loss rule's problem keeps its class");
    assert.match(e.message, /^7 config problems/);
    assert.match(e.message, /run\.yaml: config key 'learning_rat': unknown key\. Did you mean 'learning_rate'\?/);
    assert.match(e.message, /config key 'max_lenght': unknown key\. Did you mean 'max_length'\?/);
    assert.match(e.message, /config key 'alpha': has no effect on loss_type 'sigmoid'/);
  });

  test('one mistake is one problem, with the key as its own', () => {
    const e = thrown(() => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, per_device_train_batch_size: 1.5 }));
    assert.ok(e instanceof TrainConfigError);
    assert.equal(e.key, 'per_device_train_batch_size');
    assert.equal(e.problems.length, 1);
    assert.match(e.message, /^config key 'per_device_train_batch_size': expected a whole number, got 1\.5/);
  });

  test('the loss and data libraries report all their keys at once too', () => {
    const loss = thrown(() => resolveLossConfig({ beta: -1, label_smoothing: 0.7, gama_beta_ratio: 1 }));
    assert.ok(loss instanceof LossConfigError && loss instanceof LossError);
    assert.deepEqual(
      loss.problems.map((p) => p.key),
      ['gama_beta_ratio', 'beta', 'label_smoothing'],
    );
    const data = thrown(() => resolveDataConfig({ max_length: 1.5, truncation_mode: 'left', on_bad_row: 'drop' }));
    assert.ok(data instanceof DataConfigError && data instanceof DataError);
    assert.deepEqual(
      data.problems.map((p) => p.key),
      ['max_length', 'truncation_mode', 'on_bad_row'],
    );
  });

  test('model config.json problems are listed together, naming the file', () => {
    const e = thrown(() => resolveConfig(GPT2_CONFIG_SCHEMA, { n_layer: 0, n_head: 'twelve', vocab_size: null }, 'model/config.json'));
    assert.ok(e instanceof ModelConfigError && e instanceof ConfigError);
    assert.deepEqual(e.problems.map((p) => p.key).sort(), ['n_head', 'n_layer', 'vocab_size']);
    assert.ok(e.problems.every((p) => p.where === 'model/config.json'));
  });
});

describe('suggestions that make sense', () => {
  test('typos get the key they meant; distant names get none', () => {
    assert.deepEqual(suggestNames('max_lenght', ALL_CONFIG_KEYS), ['max_length']); // two letters swapped: 1 edit
    assert.deepEqual(suggestNames('learning_rat', ALL_CONFIG_KEYS), ['learning_rate']);
    assert.deepEqual(suggestNames('alpha_dpo', ['alpha-dpo', 'sigmoid']), ['alpha-dpo']); // '-' and '_' are the same
    // 'lora_alpha' is 3 edits from 'ld_alpha': more than a 10-letter name's 2, so not offered.
    assert.deepEqual(
      suggestNames(
        'lora_alpha',
        ALL_CONFIG_KEYS.filter((k) => !k.startsWith('lora_')),
      ),
      [],
    );
    // Every word of the name in a longer key: both batch sizes, equally good.
    assert.deepEqual(suggestNames('batch_size', ALL_CONFIG_KEYS), ['per_device_train_batch_size', 'per_device_eval_batch_size']);
    assert.deepEqual(suggestNames('kto', ['sigmoid', 'ipo', 'aot', 'sft']), []);
  });

  test('TRL / PEFT keys alpha-dpo lacks are "not supported yet", never a wrong suggestion', () => {
    for (const key of ['use_dora', 'lora_task_type', 'peft_config', 'deepspeed', 'load_in_4bit', 'reference_free']) {
      const e = thrown(() => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, [key]: 1 }));
      assert.ok(e instanceof TrainConfigError, key);
      assert.match(e.message, new RegExp(`config key '${key}': not supported yet \\(`), key);
      assert.doesNotMatch(e.message, /Did you mean/, key);
    }
    assert.match(String(thrown(() => resolveTrainConfig({ use_dora: true }))), /LoRA is configured with use_peft and the lora_\* keys/);
  });

  test('rpo_alpha (TRL ≤ 0.28 DPOConfig) is a loss key now, read by every loss type', () => {
    const resolved = resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, rpo_alpha: 1 });
    assert.equal(resolved.loss.rpo_alpha, 1);
  });
});

describe('null unsets a key', () => {
  const simpoYaml = { loss_type: 'simpo', beta: 2, gamma_beta_ratio: 0.5, model_name_or_path: 'm' };

  test('--gamma_beta_ratio null switches a SimPO config to DPO', () => {
    const overrides = parseOverrides(['--loss_type', 'sigmoid', '--beta', '0.1', '--gamma_beta_ratio', 'null']);
    assert.deepEqual(overrides, { loss_type: 'sigmoid', beta: 0.1, gamma_beta_ratio: null });
    const { raw, where } = mergeTrainConfigSources('simpo.yaml', simpoYaml, overrides);
    const c = resolveTrainConfig(raw, { where });
    assert.equal(c.loss_type, 'sigmoid');
    assert.equal(c.loss.gamma_beta_ratio, 0.25, 'the schema default');
    assert.equal(c.ln, false, 'sigmoid is defined on summed log-probs');
    // Without the null, the SimPO margin would silently do nothing under sigmoid: an error, naming the flag's source.
    const e = thrown(() => {
      const m = mergeTrainConfigSources('simpo.yaml', simpoYaml, parseOverrides(['--loss_type', 'sigmoid', '--beta', '0.1']));
      resolveTrainConfig(m.raw, { where: m.where });
    });
    assert.match(String(e), /simpo\.yaml: config key 'gamma_beta_ratio': has no effect on loss_type 'sigmoid'/);
    // A bad value from a flag names the flag.
    const m = mergeTrainConfigSources('simpo.yaml', simpoYaml, parseOverrides(['--beta', '-1']));
    assert.match(
      String(thrown(() => resolveTrainConfig(m.raw, { where: m.where }))),
      /^TrainConfigError: --beta: config key 'beta': -1 is out of range: it must be > 0/,
    );
  });

  test('null on a key with a default of its own takes the default; where null means something, it keeps it', () => {
    const c = resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, learning_rate: null, log_level: null, bf16: null, max_length: null });
    assert.equal(c.learning_rate, 1e-6);
    assert.equal(c.bf16, false);
    assert.deepEqual(c.ignored, [], 'an unset note-only key needs no note');
    assert.equal(c.data.max_length, null, 'max_length: null is "no limit"');
  });
});

describe('rules that depend only on the config are checked when it is resolved', () => {
  test('precompute_ref_log_probs with ld_alpha fails before any model loads', () => {
    const e = thrown(() => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, ld_alpha: 0.5, precompute_ref_log_probs: true }));
    assert.ok(e instanceof TrainConfigError);
    assert.equal(e.key, 'precompute_ref_log_probs');
    assert.match(e.message, /ld_alpha needs per-token reference log-probs/);
    assert.doesNotThrow(() => resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, ld_alpha: 0.5 }));
  });

  test('evaluation keys: eval_split_size, eval_on_start, and their conflicts', () => {
    const base = { loss_type: 'sigmoid', beta: 0.1 };
    assert.equal(resolveTrainConfig({ ...base, eval_split_size: 0.1 }).eval_split_size, 0.1);
    assert.equal(resolveTrainConfig({ ...base, eval_split_size: 200 }).eval_split_size, 200);
    assert.equal(resolveTrainConfig(base).eval_split_size, null);
    for (const bad of [0, 1.5, -3, 'ten']) {
      assert.throws(
        () => resolveTrainConfig({ ...base, eval_split_size: bad }),
        /eval_split_size': expected a fraction in \(0, 1\) or a whole number/,
      );
    }
    assert.throws(
      () => resolveTrainConfig({ ...base, eval_split_size: 0.1, eval_dataset: 'e.jsonl' }),
      /either eval_dataset or eval_split_size/,
    );
    assert.equal(resolveTrainConfig({ ...base, eval_on_start: true }).eval_on_start, true);
    assert.throws(() => resolveTrainConfig({ ...base, eval_on_start: true, eval_strategy: 'no' }), /eval_on_start': evaluation is off/);
    assert.equal(resolveTrainConfig(base).overwrite_output_dir, false);
  });

  test("report_to: 'none', 'tensorboard' or a list; online services are dropped with a note", () => {
    const base = { loss_type: 'sigmoid', beta: 0.1 };
    assert.deepEqual(resolveTrainConfig(base).report_to, []);
    assert.deepEqual(resolveTrainConfig({ ...base, report_to: 'none' }).report_to, []);
    assert.deepEqual(resolveTrainConfig({ ...base, report_to: 'tensorboard' }).report_to, ['tensorboard']);
    const c = resolveTrainConfig({ ...base, report_to: ['wandb', 'tensorboard'] });
    assert.deepEqual(c.report_to, ['tensorboard']);
    assert.deepEqual(c.ignored, [
      { key: 'report_to', why: 'wandb is not available offline: metrics go to output_dir/metrics.jsonl and tensorboard.' },
    ]);
    assert.throws(() => resolveTrainConfig({ ...base, report_to: 'tensorbord' }), /Did you mean 'tensorboard'\?/);
  });

  test('required keys are reported with everything else', () => {
    const e = thrown(() =>
      resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, seed: -1 }, { required: ['model_name_or_path', 'output_dir', 'dataset'] }),
    );
    assert.ok(e instanceof TrainConfigError);
    assert.deepEqual(
      e.problems.map((p) => p.key),
      ['seed', 'model_name_or_path', 'output_dir', 'dataset'],
    );
  });
});

describe('resolved once, passed down', () => {
  test('a resolved loss config is frozen, recognised, and its plan is made once per loss type', () => {
    const c = resolveTrainConfig({ loss_type: 'alpha-dpo', beta: 2.5, alpha: 0.05 });
    assert.ok(isResolvedLossConfig(c.loss) && Object.isFrozen(c.loss));
    assert.equal(resolveLossConfig(c.loss), c.loss, 'resolving again returns it unchanged');
    const plan = planLoss('alpha-dpo', c.loss);
    assert.equal(planLoss('alpha-dpo', c.loss), plan, 'the same plan object: nothing is checked again');
    assert.notEqual(planLoss('alpha-dpo', { beta: 2.5, alpha: 0.05 }), plan, 'a plain object is checked afresh each call');
    assert.ok(!isResolvedLossConfig({ ...c.loss }), 'a copy is not trusted');
  });
});

describe('one error hierarchy', () => {
  test('config errors are ConfigErrors and AlphaDpoErrors; the domain bases still match', () => {
    for (const E of [TrainConfigError, LossConfigError, DataConfigError, ModelConfigError]) {
      const e = new E('k', 'bad');
      assert.ok(e instanceof ConfigError && e instanceof AlphaDpoError && e instanceof Error, E.name);
      assert.equal(e.name, E.name);
      assert.equal(e.key, 'k');
    }
    assert.ok(new LossConfigError('beta', 'x') instanceof LossError);
    assert.equal(new LossConfigError('beta', 'x').field, 'beta');
    assert.ok(!(new LossInputError('logps', 'x') instanceof ConfigError));
    assert.ok(new DataConfigError('max_length', 'x') instanceof DataError);
    assert.ok(!(new BadRowError({ file: 'f', line: 1 } as never, 'x') instanceof ConfigError));
    assert.ok(!(new LossInputError('logps', 'x') instanceof LossConfigError), 'a subclass test is not widened');
    assert.ok(new AddonLoadError('x.node', 'missing') instanceof AlphaDpoError);
  });

  test('a missing addon is an AddonLoadError that says what to run', () => {
    // The native loader copied into a folder without build/: loading it must fail with the typed error.
    const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
    const dir = mkdtempSync(join(tmpdir(), 'alpha-dpo-addon-'));
    try {
      mkdirSync(join(dir, 'src', 'native'), { recursive: true });
      cpSync(join(src, 'errors.ts'), join(dir, 'src', 'errors.ts'));
      writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
      for (const f of ['binding.ts', 'errors.ts', 'handle.ts', 'ops.generated.ts'])
        cpSync(join(src, 'native', f), join(dir, 'src', 'native', f));
      const script = `
        try { await import('./src/native/binding.js'); console.log('loaded'); }
        catch (e) {
          const { AddonLoadError } = await import('./src/native/errors.js');
          const { AlphaDpoError } = await import('./src/errors.js');
          console.log(e instanceof AddonLoadError, e instanceof AlphaDpoError, e.name, e.path.endsWith('alpha_dpo_native.node'));
          console.log(e.message);
        }`;
      // Without ALPHA_DPO_ADDON (CI sets it for the libtorch 2.x run): the default path under the copy.
      const { ALPHA_DPO_ADDON: _, ...env } = process.env;
      const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), '--input-type=module', '-e', script], {
        cwd: dir,
        encoding: 'utf8',
        env,
      });
      assert.equal(r.status, 0, r.stderr);
      const [flags, ...message] = r.stdout.trim().split('\n');
      assert.equal(flags, 'true true AddonLoadError true');
      assert.match(
        message.join('\n'),
        /could not load its libtorch addon \(.*alpha_dpo_native\.node\): Cannot find module[\s\S]*\nBuild it with `npm run build:native`/,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("libtorch's errors are TorchErrors (and AlphaDpoErrors) with libtorch's message", () => {
    const e = thrown(() => torch.ones([2, 3]).matmul(torch.ones([2, 3])));
    assert.ok(e instanceof TorchError && e instanceof AlphaDpoError);
    assert.equal(e.name, 'TorchError');
    assert.match(e.message, /cannot be multiplied \(2x3 and 2x3\)/);
    assert.match(String(e.stack), /matmul|TorchError/);
  });
});

describe('types and help come from the schemas', () => {
  // Compile-time checks (tsc runs over test/ in npm run lint): each line fails to compile if the derived type drifts.
  type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
  const checks: [
    Equal<TrainConfig['report_to'], ReportTarget[]>,
    Equal<TrainConfig['eval_split_size'], number | null>,
    Equal<TrainConfig['warmup_steps'], number>,
    Equal<TrainConfig['save_total_limit'], number | null>,
    Equal<TrainConfig['lr_scheduler_type'], 'linear' | 'cosine' | 'constant' | 'constant_with_warmup'>,
    Equal<TrainConfig['ln'], boolean>,
    Equal<ResolvedLossConfig['beta'], number | null>,
    Equal<ResolvedLossConfig['normalization'], 'ema-moments' | 'ema' | 'ema-debiased' | 'batch' | 'none'>,
    Equal<ResolvedLossConfig['loss_weights'], readonly number[] | null>,
    Equal<DataConfig['max_length'], number | null>,
    Equal<DataConfig['shuffle'], boolean>,
    Equal<SchemaValues<typeof CONFIG_SCHEMA>['use_weighting'], boolean>,
  ] = [true, true, true, true, true, true, true, true, true, true, true, true];

  test('the derived types hold (checked by tsc), and a note-only key (log_level) has no value key', () => {
    assert.ok(checks.every(Boolean));
    // @ts-expect-error: note-only keys carry no value in the resolved config
    assert.equal(resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1, log_level: 'info' }).log_level, undefined);
    assert.equal(resolveTrainConfig({ loss_type: 'sigmoid', beta: 0.1 }).bf16, false, 'bf16 defaults to false (transformers)');
  });

  test('train --help lists every training, loss and data key with its type', () => {
    const help = trainConfigHelp();
    for (const key of [...TRAIN_KEYS, ...ALL_CONFIG_KEYS]) assert.match(help, new RegExp(`^  ${key} \\(`, 'm'), key);
    assert.match(help, /^ {2}warmup_ratio \(number ≥ 0 and ≤ 1, default 0\)/m);
    assert.match(help, /^ {2}max_length \(integer ≥ 2 or null, default 2048, tokens\)/m);
  });
});
