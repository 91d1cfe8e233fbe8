// Loading a Hugging Face model folder: config.json, then safetensors weights (single file or
// shards). Pickled PyTorch weights are refused, never opened: nothing in a model folder is run.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSafetensorsDir, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from '../io/safetensors.js';
import { CheckpointSource } from '../nn/checkpoint-source.js';
import { ParameterStore } from '../nn/parameter-store.js';
import { RandomSource } from '../nn/random-source.js';
import { type DType, isFloatingPoint } from '../tensor/dtype.js';
import { ARCHITECTURE_TABLE, architectureOf, buildModel } from './architectures.js';
import type { CausalLM } from './causal-lm.js';
import { ModelConfigError, ModelFolderError, UnsafeCheckpointError } from './errors.js';

export interface FromPretrainedOptions {
  /** dtype of the parameters (default float32, whatever the checkpoint's F32/F16/BF16). */
  dtype?: DType;
}

/** Files that hold pickled weights (torch.save); their presence alone is never acted on. */
const PICKLE = /\.(bin|pt|pth|ckpt|pkl)$/i;

function checkDtype(dtype: DType): DType {
  if (!isFloatingPoint(dtype))
    throw new RangeError(`dtype must be a floating-point type (float32, bfloat16, float16, float64), not ${dtype}`);
  return dtype;
}

/** config.json of a model folder as an object. */
export async function readModelConfig(dir: string): Promise<Record<string, unknown>> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ModelFolderError(`${dir}: no config.json here. A Hugging Face model folder holds config.json and *.safetensors weights.`);
    }
    throw e;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ModelConfigError('(file)', `is not valid JSON: ${(e as Error).message}`, path);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ModelConfigError('(file)', 'must hold a JSON object', path);
  return parsed as Record<string, unknown>;
}

/** Fails unless the folder has safetensors weights; names pickle files when those are all there is. */
async function checkWeightFiles(dir: string): Promise<void> {
  const files = await readdir(dir);
  if (files.includes(SAFETENSORS_FILE) || files.includes(SAFETENSORS_INDEX_FILE)) return;
  const pickles = files.filter((f) => PICKLE.test(f)).sort();
  if (pickles.length > 0) throw new UnsafeCheckpointError(dir, pickles);
  throw new ModelFolderError(`${dir}: no weights here: expected ${SAFETENSORS_FILE}, or shards listed in ${SAFETENSORS_INDEX_FILE}.`);
}

/** Loads the model in `dir` (config.json + safetensors), in evaluation mode. */
export async function loadPretrained(dir: string, options: FromPretrainedOptions = {}): Promise<CausalLM> {
  const dtype = checkDtype(options.dtype ?? 'float32');
  const raw = await readModelConfig(dir);
  const where = join(dir, 'config.json');
  const architecture = architectureOf(raw, where);
  const entry = ARCHITECTURE_TABLE[architecture];
  entry.check(raw, where); // config errors before any weight is read
  await checkWeightFiles(dir);
  // Buffers the model does not use (GPT-2's attn.bias masks, 4 MiB per layer on the hub) are not read at all.
  const { tensors } = await loadSafetensorsDir(dir, { dtype, names: (name) => !entry.layout.isIgnorable(name) });
  const source = new CheckpointSource(tensors, entry.layout, dir);
  const store = new ParameterStore(source, { dtype });
  let model: CausalLM | undefined;
  try {
    model = buildModel(architecture, store, raw, where);
    source.finish(store.ties);
  } catch (e) {
    if (model !== undefined) model.dispose();
    else store.dispose();
    for (const t of tensors.values()) t.dispose();
    throw e;
  }
  return model;
}

export interface RandomInitOptions {
  /** dtype of the parameters (default float32). */
  dtype?: DType;
}

/**
 * A model with freshly initialised weights (transformers' _init_weights: normal(0,
 * initializer_range) weights, zero biases, unit norms) for the architecture `config` names (its
 * `architectures` or `model_type`). Seed with torch.manualSeed for reproducible weights.
 */
export function randomInit(config: Readonly<Record<string, unknown>>, options: RandomInitOptions = {}): CausalLM {
  const dtype = checkDtype(options.dtype ?? 'float32');
  const where = 'config';
  const architecture = architectureOf(config, where);
  ARCHITECTURE_TABLE[architecture].check(config, where);
  const store = new ParameterStore(new RandomSource(), { dtype });
  try {
    return buildModel(architecture, store, config, where);
  } catch (e) {
    store.dispose();
    throw e;
  }
}
