// `alpha-dpo data inspect|convert` on the hand-written fixtures (counts read off the fixture files).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../src/cli/command.js';
import { runData } from '../src/cli/data.js';
import type { InspectResult } from '../src/cli/data-inspect.js';
import { loadPreferenceDataset } from '../src/data/index.js';
import { withTempDir } from './helpers/tmp-dir.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'data');
const fixture = (name: string) => join(FIXTURES, name);

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCommand('data', runData, argv, {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
  });
  return { code, out, err };
}

async function inspectJson(...argv: string[]): Promise<InspectResult> {
  const { code, out, err } = await run('inspect', ...argv, '--json');
  assert.equal(code, 0, err);
  return JSON.parse(out) as InspectResult;
}

describe('data inspect', () => {
  test('degenerate.jsonl: 8 rows, 4 usable pairs, odd rows by kind with their lines', async () => {
    const result = await inspectJson(fixture('degenerate.jsonl'));
    assert.equal(result.format, 'conversational_implicit');
    assert.equal(result.format_source, `${fixture('degenerate.jsonl')}:1`);
    assert.equal(result.rows, 8);
    assert.equal(result.pairs, 4);
    assert.deepEqual(result.odd_rows.diverges_before_last_turn, {
      count: 2,
      action: 'dropped',
      examples: [`${fixture('degenerate.jsonl')}:3`, `${fixture('degenerate.jsonl')}:7`],
    });
    assert.equal(result.odd_rows.empty_completion?.action, 'kept');
    assert.equal(result.tokens, null);
    assert.match(result.tokens_note ?? '', /need --model DIR/);
  });

  test('bad rows are counted, not fatal, unless --on_bad_row is given', async () => {
    const result = await inspectJson(fixture('bad-rows.jsonl'));
    assert.equal(result.pairs, 2);
    assert.equal(result.odd_rows.bad_row?.count, 4);
    assert.match(result.odd_rows.bad_row?.examples[0] ?? '', /bad-rows\.jsonl:3: missing the 'rejected' column/);
    const strict = await run('inspect', fixture('bad-rows.jsonl'), '--on_bad_row', 'error');
    assert.equal(strict.code, 1);
    assert.match(strict.err, /bad-rows\.jsonl:3: missing the 'rejected' column/);
  });

  test('--model: token length percentiles and what max_length 22 / max_prompt_length 20 cut', async () => {
    // conversational.jsonl through tokenizer-chatml (see data-autotokenizer.test.ts): prompt 21 tokens, completions 3 each.
    // 21 + 3 > 22, so the prompt is cut to 20; then 20 + 3 > 22 cuts each completion to 2.
    const result = await inspectJson(
      fixture('conversational.jsonl'),
      '--model',
      fixture('tokenizer-chatml'),
      '--max_length',
      '22',
      '--max_prompt_length',
      '20',
    );
    assert.equal(result.tokens?.rendering, 'chat_template');
    assert.deepEqual(result.tokens?.lengths.prompt, { p50: 21, p90: 21, p95: 21, p99: 21, p100: 21 });
    assert.deepEqual(result.tokens?.lengths.sequence, { p50: 24, p90: 24, p95: 24, p99: 24, p100: 24 });
    assert.deepEqual(result.tokens?.truncation, {
      max_length: 22,
      max_prompt_length: 20,
      truncation_mode: 'keep_end',
      prompt_truncated: 1,
      completion_truncated: 1,
      dropped: 0,
    });
    assert.equal(result.pairs, 1);
  });

  test('human output names the format, the usable pairs and the kinds', async () => {
    const { code, out } = await run('inspect', fixture('hh-rlhf.jsonl'));
    assert.equal(code, 0);
    assert.match(out, /^format: hh_rlhf \(from .*hh-rlhf\.jsonl:1\)$/m);
    assert.match(out, /^usable pairs: 1$/m);
    assert.match(out, /^odd rows: none$/m);
  });

  test('an unknown flag is refused with the nearest name; a missing file is a message, exit 1', async () => {
    const typo = await run('inspect', fixture('standard.jsonl'), '--max_lenght', '5');
    assert.equal(typo.code, 1);
    assert.match(typo.err, /--max_lenght: unknown option\. Did you mean --max_length\?/);
    const missing = await run('inspect', fixture('nope.jsonl'));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /nope\.jsonl: no such file or folder/);
  });
});

describe('data convert', () => {
  test('HH-RLHF → explicit-prompt message lists; reading the output back gives the same pair', async () => {
    await withTempDir('alpha-dpo-convert-', async (dir) => {
      const out = join(dir, 'out.jsonl');
      const { code, err } = await run('convert', fixture('hh-rlhf.jsonl'), '--out', out);
      assert.equal(code, 0, err);
      assert.match(err, /wrote 1 pairs \(format hh_rlhf\) from 1 rows/);
      assert.equal(
        await readFile(out, 'utf8'),
        '{"prompt":[{"role":"user","content":"Hi"}],"chosen":[{"role":"assistant","content":"Hello"}],"rejected":[{"role":"assistant","content":"Bye"}]}\n',
      );
      const back = await loadPreferenceDataset(out);
      assert.equal(back.format, 'conversational');
      assert.deepEqual(back.pairs[0]?.chosen, [{ role: 'assistant', content: 'Hello' }]);
    });
  });

  test('implicit text → explicit prompt strings; UltraFeedback Parquet keeps its scores and reports the dropped row', async () => {
    await withTempDir('alpha-dpo-convert-', async (dir) => {
      const text = join(dir, 'text.jsonl');
      assert.equal((await run('convert', fixture('standard_implicit.jsonl'), '--out', text)).code, 0);
      assert.deepEqual(
        (await readFile(text, 'utf8'))
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l)),
        [
          { prompt: 'The answer is', chosen: ' yes', rejected: ' yellow' },
          { prompt: 'Q: 2+2?\nA:', chosen: ' 4', rejected: ' 5' },
        ],
      );
      const uf = join(dir, 'uf.jsonl');
      const result = await run('convert', fixture('ultrafeedback.parquet'), '--out', uf, '--on_bad_row', 'skip');
      assert.equal(result.code, 0);
      assert.match(result.err, /wrote 2 pairs .* from 3 rows .*; dropped: bad_row 1/);
      const rows = (await readFile(uf, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.deepEqual(rows[1], {
        prompt: [{ role: 'user', content: 'Hi' }],
        chosen: [{ role: 'assistant', content: 'Bye' }],
        rejected: [{ role: 'assistant', content: 'Hello' }],
        prompt_id: 'p2',
        score_chosen: 7,
        score_rejected: null,
      });
    });
  });

  test('without --out, and on a bad row under the default on_bad_row: error, it stops with a message', async () => {
    const noOut = await run('convert', fixture('standard.jsonl'));
    assert.equal(noOut.code, 1);
    assert.match(noOut.err, /needs --out OUT\.jsonl/);
    const bad = await run('convert', fixture('bad-rows.jsonl'), '--out', join(tmpdir(), 'never-written.jsonl'));
    assert.equal(bad.code, 1);
    assert.match(bad.err, /bad-rows\.jsonl:3: missing the 'rejected' column/);
  });
});

test('the alpha-dpo command routes `data` to this module', () => {
  const run = (...args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, encoding: 'utf8' });
  const inspect = run('data', 'inspect', 'test/fixtures/data/standard.jsonl', '--json');
  assert.equal(inspect.status, 0, inspect.stderr);
  const result = JSON.parse(inspect.stdout) as InspectResult;
  assert.equal(result.format, 'standard');
  assert.equal(result.pairs, 2);
  const help = run('data', '--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--truncation_mode ENUM \(keep_end \| keep_start\), default "keep_end"/);
});
