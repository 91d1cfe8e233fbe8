// `alpha-dpo generate` and `alpha-dpo score`, run as the user runs them (a child process on
// src/cli/main.ts), on a tiny Llama saved with the fixture tokenizer
// (test/fixtures/models/tokenizer-chatml: "hello" = 259, " world" = 264, "he" = 256, bytes are
// their own ids, <|begin|> = 265 is BOS, <|im_end|> = 268 is EOS).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { generateText } from '../src/generation/generate.js';
import { AutoModelForCausalLM, AutoTokenizer, PRESETS, randomInit, torch } from '../src/index.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
let dir = '';

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), ...args], {
      cwd: ROOT,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

before(async () => {
  dir = await makeTempDir('alpha-dpo-cli-');
  const tokenizer = await AutoTokenizer.fromPretrained(join(ROOT, 'test', 'fixtures', 'models', 'tokenizer-chatml'));
  torch.manualSeed(31);
  const model = randomInit({ ...PRESETS['llama-tiny'], vocab_size: tokenizer.vocabSize, bos_token_id: 265, eos_token_id: 268 });
  await model.savePretrained(join(dir, 'model'), { tokenizer });
  model.dispose();
});
after(() => removeTempDir(dir));

describe('alpha-dpo generate', () => {
  test('prints what generateText produces for the saved folder (greedy and seeded sampling)', async () => {
    const model = await AutoModelForCausalLM.fromPretrained(join(dir, 'model'));
    const tokenizer = await AutoTokenizer.fromPretrained(join(dir, 'model'));
    for (const [flags, options] of [
      [[], { maxNewTokens: 6 }],
      [
        ['--temperature', '0.8', '--top-k', '20', '--top-p', '0.9', '--seed', '5'],
        { maxNewTokens: 6, doSample: true, temperature: 0.8, topK: 20, topP: 0.9, seed: 5 },
      ],
      [['--chat'], { maxNewTokens: 6, chat: true }],
    ] as const) {
      const want = generateText(model, tokenizer, ['hello world', 'he'], options);
      const { code, stdout, stderr } = await cli(
        'generate',
        '--model',
        join(dir, 'model'),
        '--prompt',
        'hello world',
        '--prompt',
        'he',
        '--max-new-tokens',
        '6',
        '--json',
        ...flags,
      );
      assert.equal(code, 0, stderr);
      const lines = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { prompt: string; completion: string; tokens: number[]; finish_reason: string });
      assert.deepEqual(
        lines.map((l) => [l.prompt, l.tokens, l.completion, l.finish_reason]),
        want.map((w, i) => [['hello world', 'he'][i], w.tokens, w.text, w.finishReason]),
        flags.join(' '),
      );
    }
    model.dispose();
  });

  test('usage mistakes exit 2 with a message', async () => {
    const missing = await cli('generate', '--prompt', 'x');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--model DIR/);
    const unknown = await cli('generate', '--model', join(dir, 'model'), '--prompt', 'x', '--temprature', '1');
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /temprature/);
    // Out-of-range numbers are refused before the model loads (the folder here does not exist).
    for (const [flag, value, message] of [
      ['--max-new-tokens', '-3', /--max-new-tokens must be ≥ 1, got -3/],
      ['--top-p', '1.5', /--top-p must be ≥ .* and ≤ 1, got 1.5/],
      ['--top-k', '-1', /--top-k must be ≥ 0/],
    ] as const) {
      const bad = await cli('generate', '--model', join(dir, 'missing'), '--prompt', 'x', `${flag}=${value}`);
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, message);
    }
    const help = await cli('generate', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--max-new-tokens N/);
  });
});

describe('alpha-dpo score', () => {
  test('writes per-pair summed and averaged completion log-probs', async () => {
    const data = join(dir, 'pairs.jsonl');
    await writeFile(
      data,
      `${JSON.stringify({ prompt: 'hello', chosen: ' world', rejected: ' there' })}\n${JSON.stringify({ prompt: 'he', chosen: 'llo', rejected: '!' })}\n`,
    );
    const out = join(dir, 'scores.jsonl');
    const { code, stderr } = await cli('score', '--model', join(dir, 'model'), '--data', data, '--out', out, '--batch-size', '1');
    assert.equal(code, 0, stderr);
    const rows = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number | string>);
    assert.equal(rows.length, 2);

    // Expected sequences (BOS, prompt tokens | completion tokens, EOS), from the tokenizer's construction:
    //   "hello" + " world": [265, 259 | 264, 268]     "hello" + " there": [265, 259 | 32, 116, 256, 114, 101, 268]
    //   "he" + "llo": "hello" re-merges to 259 across the boundary, so the prompt keeps BOS only and
    //   the completion is [259, 268] (TRL's build_tokenized_answer rule);  "he" + "!": [265, 256 | 33, 268]
    const sequences: [number[], number][] = [
      [[265, 259, 264, 268], 2],
      [[265, 259, 32, 116, 256, 114, 101, 268], 2],
      [[265, 259, 268], 1],
      [[265, 256, 33, 268], 2],
    ];
    const model = await AutoModelForCausalLM.fromPretrained(join(dir, 'model'));
    const logp = ([ids, promptLength]: [number[], number]): number =>
      torch.tidy(() => {
        const logprobs = model.forward(torch.tensor([ids], { dtype: 'int64' })).logSoftmax(-1);
        let total = 0;
        for (let t = promptLength; t < ids.length; t++)
          total += logprobs
            .select(1, t - 1)
            .select(1, ids[t] as number)
            .item();
        return total;
      });
    const want = sequences.map(logp);
    const close = (a: unknown, b: number) => assert.ok(Math.abs((a as number) - b) < 1e-4 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
    close(rows[0]?.['chosen_logps'], want[0] as number);
    close(rows[0]?.['rejected_logps'], want[1] as number);
    close(rows[0]?.['chosen_logps_avg'], (want[0] as number) / 2);
    close(rows[0]?.['rejected_logps_avg'], (want[1] as number) / 6);
    assert.equal(rows[0]?.['chosen_tokens'], 2);
    assert.equal(rows[0]?.['rejected_tokens'], 6);
    close(rows[1]?.['chosen_logps'], want[2] as number);
    close(rows[1]?.['rejected_logps'], want[3] as number);
    assert.match(String(rows[0]?.['row']), /pairs\.jsonl:1/);
    model.dispose();
  });
});
