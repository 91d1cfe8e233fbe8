// AutoTokenizer on test/fixtures/models/tokenizer-chatml (written by scripts/fixtures/gen_models.py):
// a byte-level BPE whose ids are known by construction:
//   0-255   one token per byte, id = byte value ("h" = 104, "," = 44, "\n" = 10, " " = 32 as "Ġ")
//   256-264 the merges h+e, l+l, he+ll, hell+o, Ġ+w, o+r, Ġw+or, Ġwor+l, Ġworl+d,
//           so "hello" = 259, "or" = 261 and " world" = 264
//   265-269 special tokens <|begin|> (BOS, added by the post-processor), <|end|>, <|im_start|>,
//           <|im_end|> (EOS in tokenizer_config.json), <pad>
// and a ChatML chat template that writes {{ bos_token }} itself.
import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, ChatTemplateError, TokenizerError } from '../src/index.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models', 'tokenizer-chatml');
const tempDir = tempDirsRemovedAfterAll('alpha-dpo-tok-');

/** A copy of the fixture folder with tokenizer_config.json changed by `edit` (and extra files). */
async function variant(edit: (config: Record<string, unknown>) => void, extra: Record<string, string> = {}): Promise<string> {
  const dir = await tempDir();
  for (const f of await readdir(FIXTURE)) await copyFile(join(FIXTURE, f), join(dir, f));
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  edit(config);
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text);
  return dir;
}

describe('encoding and decoding', () => {
  test('ids follow the vocabulary and merges', async () => {
    const tok = await AutoTokenizer.fromPretrained(FIXTURE);
    assert.deepEqual(tok.encode('hello world'), [265, 259, 264]);
    assert.deepEqual(tok.encode('hello world', { addSpecialTokens: false }), [259, 264]);
    assert.deepEqual(tok.encode('hello, world!'), [265, 259, 44, 264, 33]);
    // "é" is the two bytes C3 A9.
    assert.deepEqual(tok.encode('é'), [265, 0xc3, 0xa9]);
    // " hello" has no Ġ+h merge; "world" without a space uses o+r only; trailing spaces stay bytes.
    assert.deepEqual(tok.encode(' hello\n\nworld  ', { addSpecialTokens: false }), [32, 259, 10, 10, 119, 261, 108, 100, 32, 32]);
    // Special tokens in the text are matched whole.
    assert.deepEqual(tok.encode('<|im_start|>hello<|im_end|>', { addSpecialTokens: false }), [267, 259, 268]);
  });

  test('decoding restores the text; special tokens are dropped on request', async () => {
    const tok = await AutoTokenizer.fromPretrained(FIXTURE);
    assert.equal(tok.decode([259, 264]), 'hello world');
    assert.equal(tok.decode([265, 259, 264, 268]), '<|begin|>hello world<|im_end|>');
    assert.equal(tok.decode([265, 259, 264, 268], { skipSpecialTokens: true }), 'hello world');
    assert.equal(tok.decode([]), '');
    const text = ' Grüße,\n  world! ';
    assert.equal(tok.decode(tok.encode(text, { addSpecialTokens: false })), text);
  });

  test('special tokens come from tokenizer_config.json (strings or AddedToken objects)', async () => {
    const tok = await AutoTokenizer.fromPretrained(FIXTURE);
    assert.equal(tok.bosToken, '<|begin|>'); // written as {"__type": "AddedToken", "content": ...}
    assert.equal(tok.bosTokenId, 265);
    assert.equal(tok.eosToken, '<|im_end|>');
    assert.equal(tok.eosTokenId, 268);
    assert.equal(tok.padTokenId, 269);
    assert.equal(tok.vocabSize, 270);
    assert.equal(tok.tokenToId('Ġworld'), 264);
    assert.equal(tok.idToToken(259), 'hello');
    assert.equal(tok.tokenToId('no such token'), null);
  });

  test('Llama-style tokenizer classes take BOS/EOS from add_bos_token / add_eos_token', async () => {
    const noBos = await AutoTokenizer.fromPretrained(
      await variant((c) => {
        c['tokenizer_class'] = 'LlamaTokenizerFast';
        c['add_bos_token'] = false;
      }),
    );
    assert.deepEqual(noBos.encode('hello world'), [259, 264]);
    const bosAndEos = await AutoTokenizer.fromPretrained(
      await variant((c) => {
        c['tokenizer_class'] = 'LlamaTokenizer';
        c['add_eos_token'] = true;
      }),
    );
    assert.deepEqual(bosAndEos.encode('hello world'), [265, 259, 264, 268]);
  });

  test('a folder without tokenizer.json is a TokenizerError that says how to convert', async () => {
    const dir = await tempDir();
    await assert.rejects(
      AutoTokenizer.fromPretrained(dir),
      (e: unknown) => e instanceof TokenizerError && /save_pretrained/.test(e.message),
    );
  });
});

describe('chat templates', () => {
  const conversation = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hello world' },
  ];

  test('renders the ChatML template as transformers would', async () => {
    const tok = await AutoTokenizer.fromPretrained(FIXTURE);
    assert.equal(tok.hasChatTemplate, true);
    assert.equal(
      tok.applyChatTemplate(conversation, { addGenerationPrompt: true }),
      '<|begin|><|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nhello world<|im_end|>\n<|im_start|>assistant\n',
    );
    assert.equal(
      tok.applyChatTemplate([{ role: 'user', content: 'hi' }]),
      '<|begin|><|im_start|>user\nhi<|im_end|>\n',
      'no generation prompt by default',
    );
  });

  test('raise_exception in the template becomes a ChatTemplateError with its message', async () => {
    const tok = await AutoTokenizer.fromPretrained(FIXTURE);
    assert.throws(
      () => tok.applyChatTemplate([{ role: 'assistant', content: 'hi' }]),
      (e: unknown) => e instanceof ChatTemplateError && /Conversations must start with a user or system message/.test(e.message),
    );
  });

  test('no double BOS: the template’s BOS is the only one', async () => {
    const tok = await AutoTokenizer.fromPretrained(FIXTURE);
    const messages = [{ role: 'user', content: 'hello world' }];
    // <|begin|> <|im_start|> u s e r \n hello Ġworld <|im_end|> \n
    const want = [265, 267, 117, 115, 101, 114, 10, 259, 264, 268, 10];
    assert.deepEqual(tok.encodeChat(messages), want);
    // Encoding the rendered text with special tokens on would prepend a second BOS; it is dropped.
    assert.deepEqual(tok.encode(tok.applyChatTemplate(messages)), want);
    assert.deepEqual(tok.encode('<|begin|>hello world'), [265, 259, 264]);
  });

  test('chat_template.jinja takes precedence; a list of named templates picks "default"', async () => {
    const jinja = await AutoTokenizer.fromPretrained(
      await variant(() => {}, { 'chat_template.jinja': '{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}' }),
    );
    assert.equal(jinja.applyChatTemplate([{ role: 'user', content: 'x' }]), '[user] x\n');
    const listed = await AutoTokenizer.fromPretrained(
      await variant((c) => {
        c['chat_template'] = [
          { name: 'tool_use', template: 'TOOLS' },
          { name: 'default', template: '{{ eos_token }}{{ messages | length }}' },
        ];
      }),
    );
    assert.equal(listed.applyChatTemplate([{ role: 'user', content: 'x' }]), '<|im_end|>1');
  });

  test('a tokenizer without a template says so', async () => {
    const tok = await AutoTokenizer.fromPretrained(await variant((c) => delete c['chat_template']));
    assert.equal(tok.hasChatTemplate, false);
    assert.throws(() => tok.applyChatTemplate([{ role: 'user', content: 'x' }]), ChatTemplateError);
  });

  test('savePretrained writes the files back unchanged', async () => {
    const tok = await AutoTokenizer.fromPretrained(FIXTURE);
    const dir = await tempDir();
    await tok.savePretrained(join(dir, 'out'));
    for (const name of ['tokenizer.json', 'tokenizer_config.json']) {
      assert.equal(await readFile(join(dir, 'out', name), 'utf8'), await readFile(join(FIXTURE, name), 'utf8'));
    }
    const again = await AutoTokenizer.fromPretrained(join(dir, 'out'));
    assert.deepEqual(again.encode('hello, world!'), [265, 259, 44, 264, 33]);
  });
});
