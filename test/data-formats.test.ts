// Formats: detection, normalisation to explicit-prompt pairs, the implicit-prompt rules, HH-RLHF
// transcripts, UltraFeedback metadata, renamed columns, and degenerate rows by kind and count.
// Every expected value is read off the hand-written fixtures in test/fixtures/data/.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseHhTranscript } from '../src/data/formats/hh-rlhf-transcript.js';
import { textPromptBoundary } from '../src/data/formats/implicit-prompt.js';
import { BadRowError, detectDatasetFormat, explicitPromptRow, loadPreferenceDataset, type PreferencePair } from '../src/data/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'data');
const fixture = (name: string) => join(FIXTURES, name);

const user = (content: string) => ({ role: 'user', content });
const assistant = (content: string) => ({ role: 'assistant', content });

/** The pair every chat fixture holds: "Hi" answered "Hello" (chosen) or "Bye" (rejected). */
const HI_PAIR = { prompt: [user('Hi')], chosen: [assistant('Hello')], rejected: [assistant('Bye')] };

function core(pair: PreferencePair | undefined) {
  assert.ok(pair !== undefined);
  return { prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected };
}

describe('format detection', () => {
  const keys = { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected', completion: 'completion', label: 'label' };
  test('one row decides, from the column types and the HH "Human:" opening', () => {
    assert.equal(detectDatasetFormat({ prompt: 'q', chosen: 'a', rejected: 'b' }, keys), 'standard');
    assert.equal(detectDatasetFormat({ chosen: 'q a', rejected: 'q b' }, keys), 'standard_implicit');
    assert.equal(
      detectDatasetFormat({ chosen: '\n\nHuman: q\n\nAssistant: a', rejected: '\n\nHuman: q\n\nAssistant: b' }, keys),
      'hh_rlhf',
    );
    assert.equal(detectDatasetFormat({ prompt: '\n\nHuman: q\n\nAssistant:', chosen: ' a', rejected: ' b' }, keys), 'hh_rlhf');
    assert.equal(
      detectDatasetFormat({ prompt: [user('q')], chosen: [assistant('a')], rejected: [assistant('b')] }, keys),
      'conversational',
    );
    assert.equal(
      detectDatasetFormat({ chosen: [user('q'), assistant('a')], rejected: [user('q'), assistant('b')] }, keys),
      'conversational_implicit',
    );
    assert.equal(
      detectDatasetFormat({ prompt: 'q', chosen: [user('q'), assistant('a')], rejected: [user('q'), assistant('b')] }, keys),
      'ultrafeedback',
    );
    assert.equal(detectDatasetFormat({ prompt: [user('q')], chosen: 'a', rejected: 'b' }, keys), null);
    assert.equal(detectDatasetFormat({ chosen: 'a' }, keys), null);
  });
});

describe('every format normalises to the same explicit-prompt pair', () => {
  for (const [name, format] of [
    ['conversational.jsonl', 'conversational'],
    ['conversational_implicit.jsonl', 'conversational_implicit'],
    ['hh-rlhf.jsonl', 'hh_rlhf'],
    ['hh-rlhf-explicit.jsonl', 'hh_rlhf'],
    ['ultrafeedback.jsonl', 'ultrafeedback'],
  ] as const) {
    test(`${name} → format ${format}, prompt [user Hi], chosen [assistant Hello], rejected [assistant Bye]`, async () => {
      const dataset = await loadPreferenceDataset(fixture(name));
      assert.equal(dataset.format, format);
      assert.deepEqual(dataset.formatSource, { file: fixture(name), index: 0, line: 1 });
      assert.equal(dataset.pairs.length, 1);
      assert.deepEqual(core(dataset.pairs[0]), HI_PAIR);
      assert.deepEqual(dataset.report.kinds(), []);
    });
  }

  test('HH-RLHF keeps the transcript split at the last "Assistant:" for tokenizers without a chat template', async () => {
    const [pair] = (await loadPreferenceDataset(fixture('hh-rlhf.jsonl'))).pairs;
    assert.ok(pair?.kind === 'messages');
    assert.deepEqual(pair.transcript, { prompt: '\n\nHuman: Hi\n\nAssistant:', chosen: ' Hello', rejected: ' Bye' });
  });

  test('UltraFeedback: scores and prompt_id kept as metadata, the duplicate messages column ignored and reported', async () => {
    const dataset = await loadPreferenceDataset(fixture('ultrafeedback.jsonl'));
    assert.deepEqual(dataset.pairs[0]?.metadata, { prompt_id: 'p1', score_chosen: 8.5, score_rejected: 3 });
    assert.deepEqual(dataset.ignoredColumns, ['messages']);
  });

  test('UltraFeedback from Parquet: 2 pairs, a null score kept as null, row 3 (role robot) skipped and counted', async () => {
    const dataset = await loadPreferenceDataset(fixture('ultrafeedback.parquet'), { on_bad_row: 'skip' });
    assert.equal(dataset.format, 'ultrafeedback');
    assert.deepEqual(core(dataset.pairs[0]), HI_PAIR);
    assert.deepEqual(core(dataset.pairs[1]), { prompt: [user('Hi')], chosen: [assistant('Bye')], rejected: [assistant('Hello')] });
    assert.deepEqual(dataset.pairs[1]?.metadata, { prompt_id: 'p2', score_chosen: 7, score_rejected: null });
    assert.equal(dataset.report.count('bad_row'), 1);
    assert.equal(dataset.report.entry('bad_row')?.examples[0]?.location.index, 2);
  });

  test('an UltraFeedback prompt column that contradicts the dialogues is a bad row', async () => {
    const { normaliseRow } = await import('../src/data/formats/normalise-row.js');
    const keys = { prompt: 'prompt', chosen: 'chosen', rejected: 'rejected', completion: 'completion', label: 'label' };
    const row = { prompt: 'Other', chosen: [user('Hi'), assistant('a')], rejected: [user('Hi'), assistant('b')] };
    assert.throws(
      () => normaliseRow(row, 'ultrafeedback', keys, { file: 'f.jsonl', index: 0, line: 1 }),
      (e: unknown) => e instanceof BadRowError && /does not match the last user message/.test(e.message),
    );
  });

  test('renamed columns (prompt_key question, chosen_key good, rejected_key bad); other scalar columns become metadata', async () => {
    const dataset = await loadPreferenceDataset(fixture('renamed.jsonl'), {
      prompt_key: 'question',
      chosen_key: 'good',
      rejected_key: 'bad',
    });
    assert.equal(dataset.format, 'standard');
    assert.deepEqual(core(dataset.pairs[1]), { prompt: 'g h', chosen: ' i j', rejected: ' k l m' });
    assert.deepEqual(dataset.pairs[1]?.metadata, { source: 'hand' });
    await assert.rejects(loadPreferenceDataset(fixture('renamed.jsonl')), /renamed\.jsonl:1: its columns fit no known format/);
  });

  test('a forced dataset_format that the rows do not fit is a bad row naming the column', async () => {
    await assert.rejects(
      loadPreferenceDataset(fixture('standard.jsonl'), { dataset_format: 'conversational' }),
      /standard\.jsonl:1: 'prompt' must be a list of messages, got a string/,
    );
  });

  test('explicitPromptRow writes prompt, chosen, rejected, then metadata', async () => {
    const dataset = await loadPreferenceDataset(fixture('ultrafeedback.jsonl'));
    assert.deepEqual(explicitPromptRow(dataset.pairs[0] as PreferencePair), {
      ...HI_PAIR,
      prompt_id: 'p1',
      score_chosen: 8.5,
      score_rejected: 3,
    });
  });
});

describe('implicit prompt by characters', () => {
  test('the cut falls before the whitespace that precedes the first differing word', () => {
    // "The answer is ye|s" vs "…ye|llow": the common prefix ends inside "ye"; cut before " ye…" (index 13).
    assert.equal(textPromptBoundary('The answer is yes', 'The answer is yellow'), 13);
    assert.equal(textPromptBoundary('Hello world', 'Hello there'), 5);
    assert.equal(textPromptBoundary('Q: 2+2?\nA: 4', 'Q: 2+2?\nA: 5'), 10);
    // A whitespace run goes to the completions whole: prompt "X", completions "\n\nfoo" / "\n\nbar".
    assert.equal(textPromptBoundary('X\n\nfoo', 'X\n\nbar'), 1);
    // One text a prefix of the other at a word boundary: the shorter completion is empty.
    assert.equal(textPromptBoundary('A B', 'A B C'), 3);
    assert.equal(textPromptBoundary('same', 'same'), 4);
    // Divergence inside the first word: no boundary, empty prompt.
    assert.equal(textPromptBoundary('abc', 'abd'), 0);
  });

  test('standard_implicit.jsonl: prompts "The answer is" and "Q: 2+2?\\nA:"', async () => {
    const dataset = await loadPreferenceDataset(fixture('standard_implicit.jsonl'));
    assert.equal(dataset.format, 'standard_implicit');
    assert.deepEqual(dataset.pairs.map(core), [
      { prompt: 'The answer is', chosen: ' yes', rejected: ' yellow' },
      { prompt: 'Q: 2+2?\nA:', chosen: ' 4', rejected: ' 5' },
    ]);
  });
});

describe('HH-RLHF transcripts', () => {
  test('turns, trimmed contents, merged same-speaker turns, content offsets', () => {
    const text = '\n\nHuman: a\n\nAssistant:  b \n\nAssistant: c\n\nHuman: Human: d';
    const parsed = parseHhTranscript(text);
    assert.ok(typeof parsed !== 'string');
    assert.deepEqual(parsed.messages, [user('a'), assistant('b\n\nc'), user('Human: d')]);
    assert.equal(parsed.merged, true);
    // "\n\nHuman: a" fills 0–9, so content 0 starts at 8; "\n\nAssistant:" (12 characters) at 10 puts content 1 at 22;
    // "  b " (22–25) and "\n\nAssistant: c" (26–39) follow; the last "\n\nHuman:" (8) at 40 puts content 2 at 48.
    assert.deepEqual(parsed.contentStarts, [8, 22, 48]);
    assert.equal(parseHhTranscript('hello\n\nHuman: a'), 'has text before its first "\\n\\nHuman:" turn');
  });
});

describe('degenerate rows', () => {
  // degenerate.jsonl (conversational_implicit), line by line:
  // 1 ordinary; 2 identical; 3 diverges at turn 2 of 4; 4 ends on differing user turns;
  // 5 empty chosen reply; 6 two assistant turns in a row; 7 chosen a prefix of rejected; 8 no shared prompt.
  test('dropped: identical 1 (line 2), diverges_before_last_turn 2 (lines 3, 7), last_turn_not_assistant 1 (line 4)', async () => {
    const dataset = await loadPreferenceDataset(fixture('degenerate.jsonl'));
    assert.equal(dataset.rows, 8);
    assert.deepEqual(
      dataset.pairs.map((p) => p.source.line),
      [1, 5, 6, 8],
    );
    const lines = (kind: Parameters<typeof dataset.report.entry>[0]) => dataset.report.entry(kind)?.examples.map((e) => e.location.line);
    assert.deepEqual(lines('identical_pair'), [2]);
    assert.deepEqual(lines('diverges_before_last_turn'), [3, 7]);
    assert.deepEqual(lines('last_turn_not_assistant'), [4]);
    assert.equal(dataset.report.dropped(), 4);
  });

  test('kept and counted: empty_completion (line 5), merged_turns (line 6), empty_prompt (line 8)', async () => {
    const dataset = await loadPreferenceDataset(fixture('degenerate.jsonl'));
    assert.deepEqual(
      dataset.report.kinds().map((k) => [k, dataset.report.count(k)]),
      [
        ['identical_pair', 1],
        ['diverges_before_last_turn', 2],
        ['last_turn_not_assistant', 1],
        ['merged_turns', 1],
        ['empty_completion', 1],
        ['empty_prompt', 1],
      ],
    );
    assert.deepEqual(dataset.pairs[2]?.chosen, [assistant('Hello\n\nHello')]);
    assert.deepEqual(dataset.pairs[3]?.prompt, []);
  });
});
