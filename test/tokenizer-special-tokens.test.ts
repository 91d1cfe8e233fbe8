// special_tokens_map.json against tokenizer_config.json, as transformers resolves them
// (tokenization_utils_base.py, PreTrainedTokenizerBase._from_pretrained): the map is applied only
// when the config has no added_tokens_decoder. Expected values were read from transformers'
// own AutoTokenizer.from_pretrained on the same two folders, in 4.57.6 and 5.18.0 (identical
// unless noted):
//   with added_tokens_decoder:    eos <|im_end|> (268), pad <pad> (269), bos <|begin|> (265)
//   without added_tokens_decoder: eos <|end|> (266), pad <|begin|> (265), bos <|begin|> (265);
//                                 additional_special_tokens [<|im_start|>, <|im_end|>, <|end|>] in
//                                 4.57.6 ([<|im_start|>, <|im_end|>] in 5.18.0, which drops the map's list)
// The folders: test/fixtures/models/tokenizer-chatml (its config has added_tokens_decoder, eos
// <|im_end|>, pad <pad>) plus this special_tokens_map.json, and the same without added_tokens_decoder.
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer } from '../src/index.js';
import { readSpecialTokens } from '../src/tokenizers/special-tokens.js';

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'models', 'tokenizer-chatml');
const MAP = {
  eos_token: '<|end|>',
  pad_token: { content: '<|begin|>', lstrip: false, normalized: false, rstrip: false, single_word: false },
  additional_special_tokens: ['<|end|>'],
};
const scratch: string[] = [];
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function folder(keepAddedTokensDecoder: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-special-'));
  scratch.push(dir);
  for (const f of await readdir(FIXTURE)) await copyFile(join(FIXTURE, f), join(dir, f));
  const config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
  if (!keepAddedTokensDecoder) delete config['added_tokens_decoder'];
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  await writeFile(join(dir, 'special_tokens_map.json'), JSON.stringify(MAP));
  return dir;
}

test('with added_tokens_decoder in tokenizer_config.json, special_tokens_map.json is not applied (transformers 4.57.6 and 5.18.0)', async () => {
  const tok = await AutoTokenizer.fromPretrained(await folder(true));
  assert.equal(tok.eosToken, '<|im_end|>');
  assert.equal(tok.eosTokenId, 268);
  assert.equal(tok.padToken, '<pad>');
  assert.equal(tok.padTokenId, 269);
  assert.equal(tok.bosTokenId, 265);
});

test('without added_tokens_decoder, special_tokens_map.json overrides the config (transformers 4.57.6 and 5.18.0)', async () => {
  const tok = await AutoTokenizer.fromPretrained(await folder(false));
  assert.equal(tok.eosToken, '<|end|>');
  assert.equal(tok.eosTokenId, 266);
  assert.equal(tok.padToken, '<|begin|>'); // an AddedToken object in the map
  assert.equal(tok.padTokenId, 265);
  assert.equal(tok.bosTokenId, 265);
});

test("the map's additional_special_tokens are appended to the config's (transformers 4.57.6)", () => {
  const config = { additional_special_tokens: ['<|im_start|>', '<|im_end|>'], eos_token: '<|im_end|>' };
  assert.deepEqual(readSpecialTokens(config, MAP).additional, ['<|im_start|>', '<|im_end|>', '<|end|>']);
  assert.deepEqual(readSpecialTokens({ ...config, added_tokens_decoder: {} }, MAP).additional, ['<|im_start|>', '<|im_end|>']);
  // No tokenizer_config.json at all: everything comes from the map.
  assert.deepEqual(readSpecialTokens({}, MAP).tokens, { eos_token: '<|end|>', pad_token: '<|begin|>' });
});
