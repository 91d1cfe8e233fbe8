// Chat templates render exactly as transformers does with Python's jinja2. Every expected string
// in test/fixtures/chat-templates.json was written by scripts/fixtures/gen_chat_templates.py
// from transformers' apply_chat_template (the reference named in the file): one-line probes of
// the places @huggingface/jinja 0.5.11 differed (==/!= were JavaScript's loose equality,
// strip(chars) ignored its argument, ...; fixed by patches/@huggingface+jinja+0.5.11.patch) and
// six real templates (Llama-2-chat, Llama 3, Llama 3.1, Qwen2.5, Qwen3, Gemma 3) on conversations
// with and without a system message, an empty one, several turns, surrounding whitespace, a
// thinking block, roles that do not alternate, with add_generation_prompt false and true, and
// Qwen3's enable_thinking.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { copyFile, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, ChatTemplateError } from '../src/index.js';
import { ChatTemplate } from '../src/tokenizers/chat-template.js';
import type { SpecialTokens } from '../src/tokenizers/special-tokens.js';
import type { ChatMessage } from '../src/tokenizers/tokenizer.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface Fixture {
  reference: string;
  probe_messages: ChatMessage[];
  expressions: { source: string; text?: string; error?: string }[];
  templates: Record<string, { from: string; source: string; special_tokens: Record<string, string>; additional_special_tokens: string[] }>;
  renders: {
    template: string;
    conversation: string;
    messages: ChatMessage[];
    add_generation_prompt: boolean;
    kwargs: Record<string, unknown>;
    text?: string;
    error?: string;
  }[];
}
const fixture = JSON.parse(readFileSync(join(FIXTURES, 'chat-templates.json'), 'utf8')) as Fixture;
const NO_SPECIAL_TOKENS = { tokens: {}, additional: [] } as unknown as SpecialTokens;

describe(`one-line probes render as ${fixture.reference}`, () => {
  for (const { source, text, error } of fixture.expressions) {
    test(source, () => {
      assert.equal(error, undefined, 'every probe renders in Python');
      assert.equal(
        new ChatTemplate(source, 'probe').render(fixture.probe_messages, { addGenerationPrompt: false, special: NO_SPECIAL_TOKENS }),
        text,
      );
    });
  }
});

describe(`real chat templates render as ${fixture.reference}`, () => {
  const compiled = new Map(Object.entries(fixture.templates).map(([name, t]) => [name, new ChatTemplate(t.source, t.from)]));
  for (const r of fixture.renders) {
    const name = `${r.template} · ${r.conversation} · add_generation_prompt=${r.add_generation_prompt}${Object.keys(r.kwargs).length > 0 ? ` · ${JSON.stringify(r.kwargs)}` : ''}`;
    test(name, () => {
      const t = fixture.templates[r.template];
      const template = compiled.get(r.template);
      assert.ok(t !== undefined && template !== undefined);
      const special = { tokens: t.special_tokens, additional: t.additional_special_tokens } as unknown as SpecialTokens;
      const render = () => template.render(r.messages, { addGenerationPrompt: r.add_generation_prompt, special, kwargs: r.kwargs });
      if (r.error !== undefined) {
        // jinja2's TemplateError carries the template's raise_exception message.
        const message = r.error.replace(/^\w+: /, '');
        assert.throws(render, (e: unknown) => e instanceof ChatTemplateError && e.message.includes(message) && e.message.includes(t.from));
      } else {
        assert.equal(render(), r.text);
      }
    });
  }

  test('the cases the patch exists for are in the fixture', () => {
    const text = (template: string, conversation: string, kwargs = {}) =>
      fixture.renders.find(
        (r) =>
          r.template === template &&
          r.conversation === conversation &&
          !r.add_generation_prompt &&
          JSON.stringify(r.kwargs) === JSON.stringify(kwargs),
      )?.text;
    // Llama-2 with an empty system message keeps the <<SYS>> block ('' != false is True).
    assert.equal(text('llama2-chat', 'empty-system'), '<s>[INST] <<SYS>>\n\n<</SYS>>\n\nWhat is 2+2? [/INST]');
    // Qwen3's content.lstrip('\n') keeps the answer's leading spaces.
    assert.match(text('qwen3', 'answer-spaces') ?? '', /<\/think>\n\n {4}four spaces\n<\|im_end\|>/);
  });
});

describe('template keyword arguments through AutoTokenizer', () => {
  const tempDir = tempDirsRemovedAfterAll('alpha-dpo-tpl-');

  test('chatTemplateKwargs reach the template as variables (Qwen3 enable_thinking)', async () => {
    const source = fixture.templates['qwen3']?.source;
    assert.ok(source !== undefined);
    const dir = await tempDir();
    const chatml = join(FIXTURES, 'models', 'tokenizer-chatml');
    for (const f of await readdir(chatml)) await copyFile(join(chatml, f), join(dir, f));
    await writeFile(join(dir, 'chat_template.jinja'), source);
    const tok = await AutoTokenizer.fromPretrained(dir);
    const messages = [{ role: 'user', content: 'What is 2+2?' }];
    const expected = (kwargs: Record<string, unknown>) =>
      fixture.renders.find(
        (r) =>
          r.template === 'qwen3' &&
          r.conversation === 'user' &&
          r.add_generation_prompt &&
          JSON.stringify(r.kwargs) === JSON.stringify(kwargs),
      )?.text;
    const off = tok.applyChatTemplate(messages, { addGenerationPrompt: true, chatTemplateKwargs: { enable_thinking: false } });
    assert.equal(off, expected({ enable_thinking: false }));
    assert.ok(off.endsWith('<|im_start|>assistant\n<think>\n\n</think>\n\n'));
    assert.equal(tok.applyChatTemplate(messages, { addGenerationPrompt: true }), expected({}));
  });
});
