// LoRA adapters on disk in PEFT's format, so `PeftModel.from_pretrained(base, dir)` loads ours
// and adapters PEFT saved load here: adapter_config.json (lora-config.ts) and
// adapter_model.safetensors with keys `base_model.model.<module path>.lora_A.weight` /
// `.lora_B.weight` (no adapter name: peft/utils/save_and_load.py get_peft_model_state_dict removes
// it) and each modules_to_save parameter as `base_model.model.<its Hugging Face key>`, in the
// Hugging Face layout (GPT-2's Conv1D weights [in, out]). Pickled adapter_model.bin is refused.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { SavableTokenizer } from '../tokenizers/tokenizer.js';
import type { CausalLM } from './causal-lm.js';
import { LoraAdapter } from './lora-adapter.js';
import { AdapterError, adapterConfigJson, parseAdapterConfig } from './lora-config.js';

export const ADAPTER_CONFIG_FILE = 'adapter_config.json';
export const ADAPTER_WEIGHTS_FILE = 'adapter_model.safetensors';
/** PEFT's prefix of every key in adapter_model.safetensors (PeftModel.base_model.model). */
const KEY_PREFIX = 'base_model.model.';
const PICKLE = /\.(bin|pt|pth|ckpt|pkl)$/i;

export interface SaveAdapterOptions {
  /** Written as base_model_name_or_path (PEFT uses it when loading the adapter alone). */
  baseModel?: string | null;
  /** Also write this tokenizer's files, as TRL saves them with the adapter. */
  tokenizer?: SavableTokenizer | undefined;
}

/** Writes adapter_config.json and adapter_model.safetensors for `adapter` into `dir` (which must exist). */
export async function saveAdapter(adapter: LoraAdapter, dir: string, options: SaveAdapterOptions = {}): Promise<void> {
  const created: Tensor[] = [];
  const tensors = adapter.namedParameters().map(([name, t]): [string, Tensor] => {
    if (!adapter.isTransposedOnDisk(name)) return [KEY_PREFIX + name, t];
    const hf = torch.noGrad(() => torch.keep(torch.tidy(() => t.transpose(0, 1).contiguous())));
    created.push(hf);
    return [KEY_PREFIX + name, hf];
  });
  try {
    await saveSafetensors(join(dir, ADAPTER_WEIGHTS_FILE), tensors, { metadata: { format: 'pt' } });
  } finally {
    for (const t of created) t.dispose();
  }
  const config = adapterConfigJson(adapter.settings, {
    fanInFanOut: adapter.model.modelType === 'gpt2',
    baseModel: options.baseModel ?? null,
    targets: adapter.targets,
  });
  const text = new TextEncoder().encode(`${JSON.stringify(config, null, 2)}\n`);
  await writeFileAtomically(join(dir, ADAPTER_CONFIG_FILE), (fh) => writeFully(fh, text, 0));
  if (options.tokenizer !== undefined) await options.tokenizer.savePretrained(dir);
}

/** adapter_config.json of `dir`, parsed and checked; refuses a folder whose weights are only pickles. */
export async function readAdapterConfig(dir: string): Promise<ReturnType<typeof parseAdapterConfig>> {
  let files: string[];
  try {
    files = await readdir(dir);
  } catch {
    throw new AdapterError(
      `${dir}: no such adapter folder. A PEFT adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}.`,
    );
  }
  if (!files.includes(ADAPTER_CONFIG_FILE)) {
    throw new AdapterError(
      `${dir}: no ${ADAPTER_CONFIG_FILE} here; a PEFT adapter folder holds ${ADAPTER_CONFIG_FILE} and ${ADAPTER_WEIGHTS_FILE}.`,
    );
  }
  if (!files.includes(ADAPTER_WEIGHTS_FILE)) {
    const pickles = files.filter((f) => PICKLE.test(f)).sort();
    throw new AdapterError(
      pickles.length > 0
        ? `${dir}: the adapter weights are in PyTorch pickle format (${pickles.join(', ')}). Loading a pickle can run arbitrary code, ` +
            'so alpha-dpo never opens them. Where you trust the file, convert it in Python: ' +
            '`PeftModel.from_pretrained(base, dir).save_pretrained(dir, safe_serialization=True)`.'
        : `${dir}: no ${ADAPTER_WEIGHTS_FILE} here.`,
    );
  }
  const where = join(dir, ADAPTER_CONFIG_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(where, 'utf8'));
  } catch (e) {
    throw new AdapterError(`${where} is not valid JSON: ${(e as Error).message}`);
  }
  return parseAdapterConfig(raw, where);
}

/**
 * Copies the weights in `dir`/adapter_model.safetensors into `adapter`: every key must be one of
 * the adapter's, in the right shape, and none may be missing (a mismatch names the key; it
 * usually means the adapter was trained on another base model).
 */
export async function loadAdapterWeights(adapter: LoraAdapter, dir: string): Promise<void> {
  const file = join(dir, ADAPTER_WEIGHTS_FILE);
  const { tensors } = await loadSafetensors(file);
  try {
    const params = new Map(adapter.namedParameters().map(([n, t]) => [KEY_PREFIX + n, { name: n, t }]));
    const unexpected = [...tensors.keys()].filter((k) => !params.has(k));
    if (unexpected.length > 0) {
      throw new AdapterError(
        `${file}: ${unexpected[0]} has no place in this model${unexpected.length > 1 ? ` (and ${unexpected.length - 1} more keys)` : ''}; ` +
          `was the adapter trained on another base model? This model's adapted layers are e.g. ${adapter.targets[0]}.`,
      );
    }
    torch.noGrad(() => {
      for (const [key, { name, t }] of params) {
        const saved = tensors.get(key);
        if (saved === undefined) throw new AdapterError(`${file} lacks ${key}; the file is incomplete or for another adapter config.`);
        torch.tidy(() => {
          const value = adapter.isTransposedOnDisk(name) ? saved.transpose(0, 1) : saved;
          if (value.shape.join() !== t.shape.join()) {
            throw new AdapterError(
              `${file}: ${key} has shape [${saved.shape.join(', ')}], this model needs [${(adapter.isTransposedOnDisk(name) ? [...t.shape].reverse() : t.shape).join(', ')}]; ` +
                'the adapter was trained on a base model of another size.',
            );
          }
          t.copy_(value);
        });
      }
    });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}

/** Attaches the PEFT LoRA adapter saved in `dir` to `model` (PeftModel.from_pretrained). */
export async function loadAdapter(model: CausalLM, dir: string): Promise<LoraAdapter> {
  const settings = await readAdapterConfig(dir);
  const adapter = LoraAdapter.attach(model, settings, join(dir, ADAPTER_CONFIG_FILE));
  try {
    await loadAdapterWeights(adapter, dir);
  } catch (e) {
    adapter.dispose();
    throw e;
  }
  return adapter;
}
