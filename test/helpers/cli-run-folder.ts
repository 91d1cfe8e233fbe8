// What the command-line suites (train-cli, lora-cli, train-kto) share: a command's output collected
// line by line, small chat-format data rows over a fixed word list, and a folder holding a tiny
// random Llama model with the ChatML test tokenizer, ready for `alpha-dpo train --model_name_or_path`.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PRESETS, randomInit, torch } from '../../src/index.js';

const TOKENIZER = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'models', 'tokenizer-chatml');

/** A command's stdout and stderr, collected line by line (trailing newline dropped). */
export function into(lines: string[]): { out: (t: string) => void; err: (t: string) => void } {
  const push = (t: string) => {
    lines.push(t.replace(/\n$/, ''));
  };
  return { out: push, err: push };
}

export const WORDS = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree'];

/** Word k of row i (rows shifted by `offset`), cycling through WORDS. */
export function rowWord(i: number, k: number, offset: number): string {
  return WORDS[(i * 3 + k + offset) % WORDS.length] as string;
}

/** n conversational preference pairs: "name a <w0> thing" → chosen "<w1> <w2>", rejected "<w3>". */
export function pairRows(n: number, offset: number): string {
  return Array.from({ length: n }, (_, i) => {
    const w = (k: number) => rowWord(i, k, offset);
    return JSON.stringify({
      prompt: [{ role: 'user', content: `name a ${w(0)} thing` }],
      chosen: [{ role: 'assistant', content: `${w(1)} ${w(2)}` }],
      rejected: [{ role: 'assistant', content: `${w(3)}` }],
    });
  }).join('\n');
}

/** `root`/model: a random llama-tiny (vocabulary 272, seed 0) saved with the ChatML tokenizer files. */
export async function writeTinyModelFolder(root: string): Promise<void> {
  torch.manualSeed(0);
  const model = randomInit({ ...PRESETS['llama-tiny'], vocab_size: 272 });
  await model.savePretrained(join(root, 'model'));
  model.dispose();
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(TOKENIZER, f), join(root, 'model', f));
  await mkdir(join(root, 'data'));
}
