// Unpaired (KTO) data: reading TRL's prompt/completion/label rows from JSONL, JSON and Parquet
// with the pairs' bad-row handling, unpairing pairs, tokenising, and the KL rows built by hand.
// Expected values are read off the fixture files (test/fixtures/data/unpaired*) or derived in the comments.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../src/cli/command.js';
import { runData } from '../src/cli/data.js';
import type { InspectResult } from '../src/cli/data-inspect.js';
import {
  BadRowError,
  dataFingerprint,
  loadPreferenceDataset,
  PreferenceBatches,
  type TokenizedExample,
  tokenizeUnpairedExamples,
  type UnpairedExample,
  unpairedRows,
  unpairPairs,
} from '../src/data/index.js';
import { FakeTokenizer } from './fixtures/data/fake-tokenizer.js';
import { withTempDir } from './helpers/tmp-dir.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');
const fixture = (name: string) => join(FIXTURES, name);

describe('reading unpaired rows', () => {
  test('unpaired.jsonl: format detected as unpaired; the string label on line 3 stops the read with file, line and reason', async () => {
    await assert.rejects(
      loadPreferenceDataset(fixture('unpaired.jsonl')),
      (e: unknown) =>
        e instanceof BadRowError && /unpaired\.jsonl:3: 'label' must be true \(desirable\) or false \(undesirable\), got/.test(e.message),
    );
  });

  test('unpaired.jsonl under on_bad_row skip: 4 examples (labels T F T F), line 3 a bad row, line 5 an empty completion, id kept as metadata', async () => {
    const d = await loadPreferenceDataset(fixture('unpaired.jsonl'), { on_bad_row: 'skip' });
    assert.equal(d.format, 'unpaired');
    assert.equal(d.rows, 5);
    assert.deepEqual(d.pairs, []);
    assert.deepEqual(
      d.examples.map((e) => [e.prompt, e.completion, e.label, e.metadata.id]),
      [
        ['a b', ' c', true, 1],
        ['d e', ' f g', false, 2],
        ['j k', ' l', true, 4],
        ['m', '', false, 5],
      ],
    );
    assert.equal(d.report.count('bad_row'), 1);
    assert.equal(d.report.entry('bad_row')?.examples[0]?.location.line, 3);
    assert.equal(d.report.entry('empty_completion')?.examples[0]?.location.line, 5);
  });

  test('unpaired.json (a JSON array) reads as the same format', async () => {
    const d = await loadPreferenceDataset(fixture('unpaired.json'));
    assert.equal(d.format, 'unpaired');
    assert.deepEqual(
      d.examples.map((e) => [e.prompt, e.completion, e.label, e.source.line]),
      [
        ['a b', ' c', true, 2],
        ['d e', ' f g', false, 3],
      ],
    );
  });

  test('unpaired.parquet: boolean labels across two row groups; the null label of row 3 is a bad row located by row number', async () => {
    await assert.rejects(
      loadPreferenceDataset(fixture('unpaired.parquet')),
      /unpaired\.parquet row 3: 'label' must be true \(desirable\) or false \(undesirable\), got null/,
    );
    const d = await loadPreferenceDataset(fixture('unpaired.parquet'), { on_bad_row: 'skip' });
    assert.equal(d.format, 'unpaired');
    assert.deepEqual(
      d.examples.map((e) => [e.prompt, e.completion, e.label, e.source.index]),
      [
        ['a b', ' c', true, 0],
        ['d e', ' f g', false, 1],
        ['j k', ' l', true, 3],
      ],
    );
  });

  test('unpaired_conversational.jsonl: a user completion is dropped (last_turn_not_assistant), a two-message completion is a bad row', async () => {
    const d = await loadPreferenceDataset(fixture('unpaired_conversational.jsonl'), { on_bad_row: 'skip' });
    assert.equal(d.format, 'unpaired_conversational');
    assert.deepEqual(
      d.examples.map((e) => [e.kind, JSON.stringify(e.prompt), JSON.stringify(e.completion), e.label]),
      [
        ['messages', '[{"role":"user","content":"Hi"}]', '[{"role":"assistant","content":"Hello"}]', true],
        ['messages', '[{"role":"user","content":"Hi"}]', '[{"role":"assistant","content":"Bye"}]', false],
      ],
    );
    assert.equal(d.report.entry('last_turn_not_assistant')?.examples[0]?.location.line, 3);
    assert.match(d.report.entry('bad_row')?.examples[0]?.detail ?? '', /'completion' must hold exactly one assistant message, got 2/);
    assert.equal(d.report.entry('bad_row')?.examples[0]?.location.line, 4);
  });

  test('renamed columns: completion_key and label_key', async () => {
    await withTempDir('alpha-dpo-unpaired-', async (dir) => {
      const file = join(dir, 'x.jsonl');
      await writeFile(file, '{"q": "a", "answer": " b", "thumbs_up": false}\n');
      const d = await loadPreferenceDataset(file, { prompt_key: 'q', completion_key: 'answer', label_key: 'thumbs_up' });
      assert.deepEqual(
        d.examples.map((e) => [e.prompt, e.completion, e.label]),
        [['a', ' b', false]],
      );
    });
  });
});

describe('unpairing pairs', () => {
  test('HH-RLHF pairs keep their transcript split: each example carries its own completion text', async () => {
    const d = await loadPreferenceDataset(fixture('hh-rlhf.jsonl'), { on_bad_row: 'skip' });
    const examples = unpairPairs(d.pairs);
    const pair = d.pairs[0];
    const [good, bad] = examples as [UnpairedExample, UnpairedExample];
    assert.ok(pair?.kind === 'messages' && pair.transcript !== null && good.kind === 'messages' && bad.kind === 'messages');
    if (pair?.kind !== 'messages' || pair.transcript === null || good.kind !== 'messages' || bad.kind !== 'messages') return;
    assert.deepEqual(good.transcript, { prompt: pair.transcript.prompt, completion: pair.transcript.chosen });
    assert.deepEqual(bad.transcript, { prompt: pair.transcript.prompt, completion: pair.transcript.rejected });
    assert.deepEqual([good.completion, bad.completion], [pair.chosen, pair.rejected]);
  });

  test("standard.jsonl's pairs become a desirable then an undesirable example each, same prompt and source", async () => {
    const d = await loadPreferenceDataset(fixture('standard.jsonl'));
    const examples = unpairPairs(d.pairs);
    assert.equal(examples.length, 2 * d.pairs.length);
    d.pairs.forEach((pair, i) => {
      const [good, bad] = [examples[2 * i] as UnpairedExample, examples[2 * i + 1] as UnpairedExample];
      assert.equal(pair.kind, 'text');
      if (pair.kind !== 'text' || good.kind !== 'text' || bad.kind !== 'text') return;
      assert.deepEqual([good.prompt, good.completion, good.label], [pair.prompt, pair.chosen, true]);
      assert.deepEqual([bad.prompt, bad.completion, bad.label], [pair.prompt, pair.rejected, false]);
      assert.equal(good.source, pair.source);
    });
  });
});

// A Llama-like text tokenizer: BOS "<s>" = 1 added by its post-processor, EOS "</s>" = 2.
const VOCAB = { '<pad>': 0, '<s>': 1, '</s>': 2, 'Q:': 3, ' 2+2?': 4, ' 4': 7, ' 5': 8 };
const tokenizer = new FakeTokenizer({ vocab: VOCAB, bos: '<s>', eos: '</s>', pad: '<pad>', addsBos: true });
const text = (prompt: string, completion: string, label: boolean, line: number): UnpairedExample => ({
  kind: 'text',
  prompt,
  completion,
  label,
  metadata: {},
  source: { file: 'hand', index: line - 1, line },
});

describe('tokenising unpaired examples', () => {
  test('prompt gets BOS, completion gets EOS; a dropped example does not shift the labels of the others', () => {
    // max_length 4, max_prompt_length null: example 2's prompt alone is 5 tokens ("<s>" + 4 characters
    // of "QQQQ", each a character token), so its completion is truncated to nothing and it is dropped.
    const t = tokenizeUnpairedExamples(
      [text('Q: 2+2?', ' 4', true, 1), text('QQQQ', ' 4', true, 2), text('Q: 2+2?', ' 5', false, 3)],
      tokenizer,
      { max_length: 4, max_prompt_length: null },
    );
    assert.deepEqual(
      t.examples.map((e) => [Array.from(e.prompt), Array.from(e.completion), e.label, e.source.line]),
      [
        [[1, 3, 4], [7], true, 1], // "<s> Q: 2+2?" + " 4", EOS cut by max_length 4
        [[1, 3, 4], [8], false, 3],
      ],
    );
    assert.equal(t.report.count('completion_truncated_to_nothing'), 1);
    // Every example's completion was cut (two lost their EOS, the dropped one everything).
    assert.equal(t.report.count('truncated_completion'), 3);
  });
});

const ex = (prompt: number[], completion: number[], label: boolean, i: number): TokenizedExample => ({
  prompt: Int32Array.from(prompt),
  completion: Int32Array.from(completion),
  label,
  source: { file: 'hand', index: i, line: i + 1 },
  metadata: {},
});
const ids = (a: Int32Array) => Array.from(a);

describe('KL rows (unpairedRows)', () => {
  // Three examples (p_k, c_k): p0 = [10], p1 = [11, 11], p2 = [12]; c0 = [20], c1 = [21, 21], c2 = [22].
  const three = [ex([10], [20], true, 0), ex([11, 11], [21, 21], false, 1), ex([12], [22], true, 2)];

  test('one chunk of 3, by hand: KL row k is completion k after prompt (k + 1) mod 3', () => {
    const rows = unpairedRows(three, 3, null);
    assert.deepEqual(
      rows.map((r) => [ids(r.chosen.prompt), ids(r.chosen.completion), ids(r.rejected.prompt), ids(r.rejected.completion), r.label]),
      [
        [[10], [20], [11, 11], [20], true], // (p1, c0)
        [[11, 11], [21, 21], [12], [21, 21], false], // (p2, c1)
        [[12], [22], [10], [22], true], // (p0, c2)
      ],
    );
  });

  test('chunks of 2 over 3 examples: [0, 1] swap prompts, the last chunk of one pairs example 2 with its own prompt', () => {
    const rows = unpairedRows(three, 2, null);
    assert.deepEqual(
      rows.map((r) => [ids(r.rejected.prompt), ids(r.rejected.completion)]),
      [
        [[11, 11], [20]],
        [[10], [21, 21]],
        [[12], [22]],
      ],
    );
  });

  test('a KL row longer than max_length loses the end of its completion: p1 (2 tokens) + c2 cut to max_length 3', () => {
    const long = [ex([10], [20, 20], true, 0), ex([11, 11], [21], false, 1)];
    const rows = unpairedRows(long, 2, 3);
    // KL row 0: p1 [11, 11] + c0 [20, 20] is 4 tokens > 3: c0 keeps 1 token. KL row 1: p0 [10] + c1 [21] fits.
    assert.deepEqual(
      rows.map((r) => [ids(r.rejected.prompt), ids(r.rejected.completion)]),
      [
        [[11, 11], [20]],
        [[10], [21]],
      ],
    );
  });

  test('batches of unpaired rows carry the labels; the examples are rows 0..B−1 and the KL rows B..2B−1', () => {
    const batches = new PreferenceBatches(unpairedRows(three, 3, null), { batchSize: 3, seed: 0, config: { shuffle: false } });
    const batch = batches.next();
    try {
      assert.deepEqual(batch.desirable, [true, false, true]);
      // Row 3 (the first KL row) is p1 c0 = [11, 11, 20] then padding; its label is c0 = 20 at position 2.
      const input = batch.inputIds.toNumbers();
      const width = batch.inputIds.shape[1] as number;
      assert.deepEqual(input.slice(3 * width, 3 * width + 3), [11, 11, 20]);
    } finally {
      batch.dispose();
    }
  });

  test('the data fingerprint changes when one label flips (a resume cursor must not accept relabelled data)', () => {
    const flipped = [three[0] as TokenizedExample, { ...(three[1] as TokenizedExample), label: true }, three[2] as TokenizedExample];
    assert.notEqual(dataFingerprint(unpairedRows(three, 3, null)), dataFingerprint(unpairedRows(flipped, 3, null)));
  });
});

describe('data convert on unpaired data', () => {
  test('writes prompt, completion, label and the metadata; reading the file back gives the same examples', async () => {
    await withTempDir('alpha-dpo-unpaired-', async (dir) => {
      const out = join(dir, 'out.jsonl');
      const code = await runCommand('data', runData, ['convert', fixture('unpaired.jsonl'), '--on_bad_row', 'skip', '--out', out], {
        out: () => {},
        err: () => {},
      });
      assert.equal(code, 0);
      const again = await loadPreferenceDataset(out);
      const before = await loadPreferenceDataset(fixture('unpaired.jsonl'), { on_bad_row: 'skip' });
      const view = (d: typeof again) => d.examples.map((e) => [e.prompt, e.completion, e.label, e.metadata]);
      assert.equal(again.format, 'unpaired');
      assert.deepEqual(view(again), view(before));
    });
  });
});

describe('data inspect on unpaired data', () => {
  test('unpaired.jsonl: 2 desirable and 2 undesirable examples, no pairs, the bad row counted', async () => {
    let out = '';
    const code = await runCommand('data', runData, ['inspect', fixture('unpaired.jsonl'), '--json'], {
      out: (t) => {
        out += t;
      },
      err: () => {},
    });
    assert.equal(code, 0);
    const r = JSON.parse(out) as InspectResult;
    assert.equal(r.format, 'unpaired');
    assert.deepEqual(r.examples, { desirable: 2, undesirable: 2 });
    assert.equal(r.pairs, 0);
    assert.equal(r.odd_rows.bad_row?.count, 1);
  });

  test('the text output names the counts', async () => {
    let out = '';
    await runCommand('data', runData, ['inspect', fixture('unpaired.parquet')], {
      out: (t) => {
        out += t;
      },
      err: () => {},
    });
    assert.match(out, /usable examples: 3 \(desirable 2, undesirable 1\)/);
  });
});
