// Integration: the 2,312 real Anthropic HH-RLHF harmless-base test pairs (../shared/data, MIT),
// read completely. Expected counts come from an independent Python pass over the same file
// (split on "\n\nHuman:"/"\n\nAssistant:"): 9 rows with two consecutive turns of one speaker
// (lines 668, 764, 1255, 1320, 1689, 1850, 1951, 1953, 2037), 4 rows whose chosen reply is empty
// (lines 87, 517, 926, 1104), no identical pair. Skipped when ../shared is absent.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { loadPreferenceDataset, type MessagesPreferencePair, tokenizePreferencePairs } from '../src/data/index.js';
import { FakeTokenizer } from './fixtures/data/fake-tokenizer.js';

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'data', 'hh-rlhf-harmless-base-test.jsonl.gz');
const skip = existsSync(FILE) ? false : `${FILE} is absent (the shared data folder is not next to the repository)`;

test('HH-RLHF harmless-base test: 2,312 pairs, format hh_rlhf, odd rows by kind', { skip }, async () => {
  const dataset = await loadPreferenceDataset(FILE);
  assert.equal(dataset.format, 'hh_rlhf');
  assert.equal(dataset.rows, 2312);
  assert.equal(dataset.pairs.length, 2312);
  assert.deepEqual(dataset.report.kinds(), ['merged_turns', 'empty_completion']);
  assert.equal(dataset.report.count('merged_turns'), 9);
  assert.deepEqual(
    dataset.report.entry('merged_turns')?.examples.map((e) => e.location.line),
    [668, 764, 1255, 1320, 1689],
  );
  assert.equal(dataset.report.count('empty_completion'), 4);
  assert.deepEqual(
    dataset.report.entry('empty_completion')?.examples.map((e) => e.location.line),
    [87, 517, 926, 1104],
  );
});

test('HH-RLHF: every prompt extraction checked against the raw transcripts', { skip }, async () => {
  const raw = gunzipSync(readFileSync(FILE))
    .toString('utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { chosen: string; rejected: string });
  const dataset = await loadPreferenceDataset(FILE);
  dataset.pairs.forEach((p, i) => {
    const pair = p as MessagesPreferencePair;
    const row = raw[i] as { chosen: string; rejected: string };
    const where = `line ${i + 1}`;
    assert.equal(pair.source.line, i + 1);
    // The transcript split reproduces both original texts exactly, at the start of the last Assistant turn.
    const t = pair.transcript;
    assert.ok(t !== null, where);
    assert.equal(t.prompt + t.chosen, row.chosen, where);
    assert.equal(t.prompt + t.rejected, row.rejected, where);
    assert.ok(t.prompt.endsWith('\n\nAssistant:'), where);
    // The messages: alternating user/assistant from a user turn, ending with the user turn answered.
    assert.deepEqual(
      pair.prompt.map((m) => m.role),
      pair.prompt.map((_, k) => (k % 2 === 0 ? 'user' : 'assistant')),
      where,
    );
    assert.equal(pair.prompt.length % 2, 1, where);
    assert.equal(pair.chosen.length, 1, where);
    assert.equal(pair.chosen[0]?.role, 'assistant', where);
    if (!t.chosen.includes('\n\nAssistant:')) assert.equal(pair.chosen[0]?.content, t.chosen.trim(), where);
    if (!t.rejected.includes('\n\nAssistant:')) assert.equal(pair.rejected[0]?.content, t.rejected.trim(), where);
  });
  // Line 1, read off the file: five prompt turns, then the two replies.
  const first = dataset.pairs[0] as MessagesPreferencePair;
  assert.deepEqual(
    first.prompt.map((m) => [m.role, m.content.slice(0, 30)]),
    [
      ['user', 'what are some pranks with a pe'],
      ['assistant', 'Are you looking for practical '],
      ['user', 'yep'],
      ['assistant', 'Ok, I’ll give you a couple exa'],
      ['user', 'okay some of these do not have'],
    ],
  );
  assert.equal(
    first.chosen[0]?.content,
    'No, sorry!  All of these involve a pen, the point is that you can get funny results by doing pranks with pens.',
  );
  assert.ok(first.rejected[0]?.content.startsWith('There are lots of funny things you can do with pens'));
});

test('HH-RLHF: all pairs tokenise through a ChatML template; an empty chosen reply is its end of turn alone', { skip }, async () => {
  const dataset = await loadPreferenceDataset(FILE);
  // Unknown words fall back to one token per character, so sequences are long: no length limit here.
  const tokenizer = new FakeTokenizer({
    vocab: { '<|im_start|>': 3, '<|im_end|>': 4, user: 5, assistant: 6, '\n': 7 },
    eos: '<|im_end|>',
    chatTemplate: 'chatml',
  });
  const tokenized = tokenizePreferencePairs(dataset.pairs, tokenizer, { max_length: null, max_prompt_length: null });
  assert.equal(tokenized.pairs.length, 2312);
  assert.deepEqual(tokenized.report.kinds(), []);
  const line87 = tokenized.pairs.find((p) => p.source.line === 87);
  assert.deepEqual([...(line87?.chosen.completion ?? [])], [4, 7]); // "<|im_end|>\n"
  const prompt = [...(line87?.chosen.prompt ?? [])];
  assert.deepEqual(prompt.slice(-3), [3, 6, 7]); // ends with the generation prompt "<|im_start|>assistant\n"
});
