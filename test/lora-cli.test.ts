// LoRA from the command line: `train examples/alpha-dpo-lora.yaml` on a tiny model folder gives a
// PEFT adapter folder; `generate --adapter` and `score --adapter` use it; `merge` folds it into a
// plain folder whose logits equal base + adapter (and, with a Python that has transformers,
// transformers' logits of the merged folder equal ours).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runEvaluate } from '../src/cli/evaluate.js';
import { runGenerate } from '../src/cli/generate.js';
import { runMerge } from '../src/cli/merge.js';
import { runScore } from '../src/cli/score.js';
import { runTrain } from '../src/cli/train.js';
import { AutoModelForCausalLM, loadSafetensors, type Tensor, torch } from '../src/index.js';
import { into, pairRows as rows, writeTinyModelFolder } from './helpers/cli-run-folder.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';
import { relativeError, transformersPythons } from './helpers/transformers-interop.js';

const HERE = dirname(fileURLToPath(import.meta.url));
let root = '';

before(async () => {
  root = await makeTempDir('alpha-dpo-lora-cli-');
  await writeTinyModelFolder(root);
  await writeFile(join(root, 'data', 'train.jsonl'), rows(8, 0));
  await writeFile(join(root, 'data', 'test.jsonl'), rows(4, 5));
});
after(() => removeTempDir(root));

describe('LoRA on the command line', () => {
  const out = () => join(root, 'out');
  const ids = torch.tensor([[5, 40, 3, 99, 12, 7]], { dtype: 'int64' });

  test('train examples/alpha-dpo-lora.yaml → a PEFT adapter folder; generate and score take --adapter', async () => {
    const lines: string[] = [];
    const code = await runTrain(
      [
        join(HERE, '..', 'examples', 'alpha-dpo-lora.yaml'),
        ...['--model_name_or_path', join(root, 'model'), '--dataset', join(root, 'data'), '--output_dir', out()],
        ...['--max_steps', '2', '--gradient_accumulation_steps', '1', '--learning_rate', '1e-2', '--eval_steps', '2', '--save_steps', '1'],
        ...['--lora_r', '4', '--torch_dtype', 'bfloat16'],
      ],
      into(lines),
    );
    assert.equal(code, 0, lines.join('\n'));
    const text = lines.join('\n');
    assert.match(text, /LoRA r=4 on 14 layers/);
    assert.match(text, /reference: the base model \(adapter off\)/);
    const files = await readdir(out());
    for (const f of ['adapter_config.json', 'adapter_model.safetensors', 'tokenizer.json', 'metrics.jsonl', 'checkpoint-2']) {
      assert.ok(files.includes(f), `${f} in ${files.join(', ')}`);
    }
    assert.ok(!files.includes('model.safetensors'), 'no copy of the base weights');
    const config = JSON.parse(await readFile(join(out(), 'adapter_config.json'), 'utf8'));
    assert.equal(config.peft_type, 'LORA');
    assert.equal(config.r, 4);
    assert.equal(config.lora_alpha, 16);
    assert.equal(config.base_model_name_or_path, join(root, 'model'));
    // The adapter tensors are float32 over the bfloat16 base.
    const { tensors } = await loadSafetensors(join(out(), 'adapter_model.safetensors'));
    assert.ok([...tensors.values()].every((t) => t.dtype === 'float32'));
    for (const t of tensors.values()) t.dispose();

    const gen: string[] = [];
    const generateArgs = ['--model', join(root, 'model'), '--prompt', 'name a cat thing', '--max-new-tokens', '4', '--json'];
    assert.equal(await runGenerate([...generateArgs, '--adapter', out()], into(gen)), 0, gen.join('\n'));
    assert.equal(JSON.parse(gen[0] as string).tokens.length > 0, true);

    const scored = join(root, 'scored.jsonl');
    const scoredBase = join(root, 'scored-base.jsonl');
    const scoreArgs = ['--model', join(root, 'model'), '--data', join(root, 'data', 'test.jsonl')];
    assert.equal(await runScore([...scoreArgs, '--adapter', out(), '--out', scored], into([])), 0);
    assert.equal(await runScore([...scoreArgs, '--out', scoredBase], into([])), 0);
    // evaluate --adapter: DPO metrics of the adapter against its own base (adapter off).
    const evaluated: string[] = [];
    const evalArgs = ['--model', join(root, 'model'), '--data', join(root, 'data', 'test.jsonl'), '--adapter', out()];
    assert.equal(await runEvaluate(evalArgs, into(evaluated)), 0, evaluated.join('\n'));
    assert.match(evaluated.join('\n'), /loss "sigmoid", summed log-probs, 4 pairs/);
    const margin = Number(/eval_rewards\/margins\s+(\S+)/.exec(evaluated.join('\n'))?.[1]);
    assert.ok(Number.isFinite(margin) && margin !== 0, `the trained adapter's margin against its base: ${margin}`);
    const first = (f: string) => readFile(f, 'utf8').then((t) => JSON.parse(t.split('\n')[0] as string).chosen_logps as number);
    assert.notEqual(await first(scored), await first(scoredBase), 'the adapter changes the scores');
  });

  test('merge: logits equal base + adapter within round-off; refuses a non-empty --out; transformers loads it', async () => {
    const merged = join(root, 'merged');
    const lines: string[] = [];
    const args = ['--model', join(root, 'model'), '--adapter', out(), '--out', merged, '--dtype', 'float32'];
    assert.equal(await runMerge(args, into(lines)), 0, lines.join('\n'));
    assert.match(lines.join('\n'), /merged .* \(r=4, 14 layers\)/);
    const withAdapter = await AutoModelForCausalLM.fromPretrained(join(root, 'model'), { adapter: out() });
    const plain = await AutoModelForCausalLM.fromPretrained(merged);
    assert.equal(plain.adapter, null);
    const want = torch.noGrad(() => withAdapter.forward(ids));
    const got = torch.noGrad(() => plain.forward(ids));
    // float32 round-off of W + s·B·A against x·Wᵀ + s·(x·Aᵀ)·Bᵀ: ~1e-7 relative.
    const err = relativeError(got, want);
    assert.ok(err < 1e-5, `relative error ${err}`);
    const base = await AutoModelForCausalLM.fromPretrained(join(root, 'model'));
    assert.ok(
      relativeError(
        torch.noGrad(() => base.forward(ids)),
        want,
      ) > 1e-4,
      'the adapter matters',
    );
    assert.ok((await readdir(merged)).includes('tokenizer.json'));
    await assert.rejects(runMerge(args, into([])), /is not empty/);

    const { pythons, reason } = transformersPythons();
    if (pythons.length === 0) {
      lines.push(`transformers check skipped: ${reason}`);
    } else {
      const logitsDir = join(root, 'hf-logits');
      await mkdir(logitsDir);
      const run = spawnSync(
        pythons[0] as string,
        [join(HERE, '..', 'scripts', 'fixtures', 'hf_logits.py'), JSON.stringify([[5, 40, 3, 99, 12, 7]]), logitsDir, merged],
        {
          encoding: 'utf8',
        },
      );
      assert.equal(run.status, 0, run.stderr.slice(-2000));
      const { tensors } = await loadSafetensors(join(logitsDir, '0.safetensors'));
      const theirs = tensors.get('logits') as Tensor;
      assert.ok(relativeError(got, theirs) < 1e-5, `transformers: relative error ${relativeError(got, theirs)}`);
      theirs.dispose();
    }
    for (const m of [withAdapter, plain, base]) m.dispose();
  });

  test('adapter_name_or_path continues the trained adapter: its first loss is the trained one, below ln 2', async () => {
    const lines: string[] = [];
    const code = await runTrain(
      [
        join(HERE, '..', 'examples', 'alpha-dpo-lora.yaml'),
        ...['--model_name_or_path', join(root, 'model'), '--dataset', join(root, 'data'), '--output_dir', join(root, 'continued')],
        ...['--max_steps', '1', '--gradient_accumulation_steps', '1', '--save_strategy', 'no', '--eval_strategy', 'no'],
        ...['--loss_type', 'sigmoid', '--beta', '0.1', '--gamma_beta_ratio', 'null', '--alpha', 'null', '--ln', 'null'],
        ...['--adapter_name_or_path', out()],
      ],
      into(lines),
    );
    assert.equal(code, 0, lines.join('\n'));
    const text = lines.join('\n');
    assert.match(text, /note: 'lora_r' has no effect here: the adapter in .* brings its own setting/);
    assert.match(text, /LoRA r=4 on 14 layers/, 'r comes from the adapter folder (4), not the YAML (32)');
    const summary = JSON.parse(await readFile(join(root, 'continued', 'train_summary.json'), 'utf8'));
    // A fresh adapter starts at exactly ln 2 (B = 0); a trained one does not.
    assert.ok(Math.abs(summary.finalLoss - Math.LN2) > 1e-4, `first loss ${summary.finalLoss}`);
  });

  test('use_peft mistakes fail before any work: lora keys without use_peft, r = 0, targets that match nothing', async () => {
    const base = ['--model_name_or_path', join(root, 'model'), '--dataset', join(root, 'data'), '--output_dir', join(root, 'bad')];
    const example = join(HERE, '..', 'examples', 'alpha-dpo-lora.yaml');
    await assert.rejects(runTrain([example, ...base, '--use_peft', 'false'], into([])), /'lora_r': has no effect without use_peft: true/);
    await assert.rejects(runTrain([example, ...base, '--lora_r', '0'], into([])), /'lora_r'.*(out of range|≥ 1)/);
    await assert.rejects(
      runTrain([example, ...base, '--lora_target_modules', 'c_attn', '--max_steps', '1'], into([])),
      /matches none of the model's linear layers\. Its linear layers are named q_proj, k_proj/,
    );
  });
});
