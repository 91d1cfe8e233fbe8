// A chat template comes from a model folder, so it must not be able to crash or hang the process.
// Before: {{ range(1000000000)|length }} aborted Node with a V8 fatal error ("Reached heap limit"),
// which no try/catch survives, and nested loops over large ranges never returned. Each case
// below must end in a ChatTemplateError naming the template's file, after which this same process
// renders a normal template again (were it aborted or hung, the file's remaining tests would not
// run). The small limits are arguments of ChatTemplate (the defaults are 10 s, 512 MiB, 16 Mi
// characters), chosen so each case ends quickly; no assertion is on time.
import assert from 'node:assert/strict';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, ChatTemplateError } from '../src/index.js';
import { ChatTemplate, DEFAULT_CHAT_TEMPLATE_LIMITS } from '../src/tokenizers/chat-template.js';
import type { SpecialTokens } from '../src/tokenizers/special-tokens.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const CHATML = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models', 'tokenizer-chatml');
const special = { tokens: { bos_token: '<s>' }, additional: [] } as unknown as SpecialTokens;
const messages = [{ role: 'user', content: 'hello' }];
const WHERE = '/models/hostile/chat_template.jinja';

const tempDir = tempDirsRemovedAfterAll('alpha-dpo-hostile-');

/** A copy of the ChatML tokenizer fixture whose chat_template.jinja is `template`. */
async function folderWithTemplate(template: string): Promise<string> {
  const dir = await tempDir();
  for (const f of await readdir(CHATML)) await copyFile(join(CHATML, f), join(dir, f));
  await writeFile(join(dir, 'chat_template.jinja'), template);
  return dir;
}

/** The process still renders: a plain template gives the text written out by hand. */
function stillRenders(): void {
  const plain = new ChatTemplate('{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}', 'plain');
  assert.equal(plain.render(messages, { addGenerationPrompt: false, special }), '<s>[user]hello');
}

describe('a hostile chat template fails with a ChatTemplateError naming its file', () => {
  test('range(10^9) is refused at once (it used to abort V8)', async () => {
    const dir = await folderWithTemplate('{{ range(1000000000)|length }}');
    const tok = await AutoTokenizer.fromPretrained(dir);
    assert.throws(
      () => tok.applyChatTemplate(messages),
      (e: unknown) =>
        e instanceof ChatTemplateError &&
        e.message.includes(join(dir, 'chat_template.jinja')) &&
        e.message.includes('range(0, 1000000000, 1) has 1000000000 elements; at most 1000000 are allowed'),
    );
    stillRenders();
  });

  test('a range of 10^6 elements, the most allowed, still works', () => {
    const t = new ChatTemplate('{{ range(1000000)|length }} {{ range(10, 0, -3)|join(",") }}', WHERE);
    // Python: len(range(10**6)) = 1000000; list(range(10, 0, -3)) = [10, 7, 4, 1]
    assert.equal(t.render(messages, { addGenerationPrompt: false, special }), '1000000 10,7,4,1');
  });

  test('nested loops that would run for hours stop at the time limit', () => {
    // 10^6 × 10^6 iterations.
    const t = new ChatTemplate('{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}done', WHERE, {
      timeMs: 1000,
    });
    assert.throws(
      () => t.render(messages, { addGenerationPrompt: false, special }),
      (e: unknown) => e instanceof ChatTemplateError && e.message.startsWith(`${WHERE}: the chat template did not finish within 1 s`),
    );
    stillRenders();
  });

  test('a list that doubles forty times stops at the heap limit', () => {
    const t = new ChatTemplate(
      '{% set ns = namespace(a=[1]) %}{% for i in range(40) %}{% set ns.a = ns.a + ns.a %}{% endfor %}{{ ns.a|length }}',
      WHERE,
      { heapMb: 32, timeMs: 3000 },
    );
    assert.throws(
      () => t.render(messages, { addGenerationPrompt: false, special }),
      (e: unknown) => e instanceof ChatTemplateError && e.message.startsWith(WHERE) && e.message.includes('ran out of its 32 MiB'),
    );
    stillRenders();
  });

  test('a string that doubles forty times fails at the string-length limit', () => {
    const t = new ChatTemplate(
      '{% set ns = namespace(s="ab") %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}',
      WHERE,
    );
    assert.throws(
      () => t.render(messages, { addGenerationPrompt: false, special }),
      (e: unknown) => e instanceof ChatTemplateError && e.message.startsWith(WHERE),
    );
    stillRenders();
  });

  test('a rendered text over the output limit is refused', () => {
    // 1000 × "hello" = 5000 characters.
    const t = new ChatTemplate('{% for i in range(1000) %}{{ messages[0].content }}{% endfor %}', WHERE, { maxOutputChars: 4999 });
    assert.throws(
      () => t.render(messages, { addGenerationPrompt: false, special }),
      (e: unknown) =>
        e instanceof ChatTemplateError &&
        e.message === `${WHERE}: the chat template failed on these messages: the rendered text has 5000 characters; the limit is 4999`,
    );
    const roomy = new ChatTemplate('{% for i in range(1000) %}{{ messages[0].content }}{% endfor %}', WHERE, { maxOutputChars: 5000 });
    assert.equal(roomy.render(messages, { addGenerationPrompt: false, special }), 'hello'.repeat(1000));
  });

  test('the defaults are the documented ones', () => {
    assert.deepEqual({ ...DEFAULT_CHAT_TEMPLATE_LIMITS }, { timeMs: 10_000, heapMb: 512, maxOutputChars: 16 * 1024 * 1024 });
  });
});
