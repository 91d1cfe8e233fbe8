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
  const config = new TextEncoder().encode(`${JSON.stringify(model.configJson(), null, 2)}\n`);
  await writeFileAtomically(join(dir, 'config.json'), (fh) => writeFully(fh, config, 0));
  if (options.tokenizer !== undefined) await options.tokenizer.savePretrained(dir);
}
