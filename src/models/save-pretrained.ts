// Saving a model as a Hugging Face folder: config.json, model.safetensors (or shards with an
// index), optionally the tokenizer's files. Keys, shapes and layouts are transformers' own, so
// its from_pretrained loads the folder.
import { join } from 'node:path';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';
import { saveSafetensorsSharded } from '../io/safetensors.js';
import type { SavableTokenizer } from '../tokenizers/tokenizer.js';
import type { CausalLM } from './causal-lm.js';

export interface SavePretrainedOptions {
  /** Largest shard in bytes (default 5e9, transformers' "5GB"). */
  maxShardSize?: number;
  /** Also write this tokenizer's files (tokenizer.json, tokenizer_config.json, ...). */
  tokenizer?: SavableTokenizer | undefined;
}

export async function savePretrained(model: CausalLM, dir: string, options: SavePretrainedOptions = {}): Promise<void> {
  const { tensors, created } = model.checkpointTensors();
  try {
    await saveSafetensorsSharded(dir, tensors, {
      metadata: { format: 'pt' },
      ...(options.maxShardSize !== undefined ? { maxShardSize: options.maxShardSize } : {}),
    });
  } finally {
    for (const t of created) t.dispose();
  }
  const config = new TextEncoder().encode(configJsonText(model.configJson(), model.floatConfigKeys));
  await writeFileAtomically(join(dir, 'config.json'), (fh) => writeFully(fh, config, 0));
  if (options.tokenizer !== undefined) await options.tokenizer.savePretrained(dir);
}

/**
 * config.json's text. The top-level `floatKeys` holding a whole number are written with a decimal
 * point (30.0, not 30): transformers 5 validates config field types strictly and refuses an
 * integer where its config class declares a float (Gemma2Config.final_logit_softcapping).
 */
export function configJsonText(config: Readonly<Record<string, unknown>>, floatKeys: readonly string[]): string {
  const tagged: Record<string, unknown> = { ...config };
  const marks = new Map<string, string>();
  for (const key of floatKeys) {
    const v = tagged[key];
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 1e15) {
      const mark = `\u0000float:${key}\u0000`;
      marks.set(JSON.stringify(mark), `${v}.0`);
      tagged[key] = mark;
    }
  }
  let text = JSON.stringify(tagged, null, 2);
  for (const [mark, float] of marks) text = text.replace(mark, float);
  return `${text}\n`;
}
