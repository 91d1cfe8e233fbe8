// Loading a Hugging Face model folder: config.json, then safetensors weights (single file or
// shards). Pickled PyTorch weights are refused, never opened: nothing in a model folder is run.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadSafetensorsDir, readSafetensorsDirHeader, SAFETENSORS_FILE, SAFETENSORS_INDEX_FILE } from '../io/safetensors.js';
import { CheckpointSource, checkCheckpointKeys, type StoredTensor } from '../nn/checkpoint-source.js';
import { ParameterStore } from '../nn/parameter-store.js';
import { RandomSource } from '../nn/random-source.js';
import { ShapeOnlySource } from '../nn/shape-only-source.js';
import { type DType, isFloatingPoint } from '../tensor/dtype.js';
import * as torch from '../tensor/torch.js';
import { ARCHITECTURE_TABLE, architectureOf, buildModel } from './architectures.js';
import type { Architecture, CausalLM } from './causal-lm.js';
import { ModelConfigError, ModelFolderError, UnsafeCheckpointError, UnsupportedDtypeError } from './errors.js';
import { loadAdapter } from './peft-adapter-files.js';

export interface FromPretrainedOptions {
  /**
   * dtype of the parameters (default float32, whatever the checkpoint's F32/F16/BF16), or 'auto'
   * for the dtype config.json names (`dtype`, or the older `torch_dtype`; float32 when it names
   * none), as transformers' dtype="auto".
   */
  dtype?: DType | 'auto';
  /**
   * A PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors) to attach, as
   * `PeftModel.from_pretrained(base, adapter)`: the adapter's branches stay float32 over the base's dtype.
   */
  adapter?: string | undefined;
}

/** Files that hold pickled weights (torch.save); their presence alone is never acted on. */
const PICKLE = /\.(bin|pt|pth|ckpt|pkl)$/i;

const CONFIG_DTYPES: readonly DType[] = ['float32', 'bfloat16', 'float16', 'float64'];

/**
 * The parameter dtype config.json names: `dtype` (transformers >= 4.56 writes it) before the
 * older `torch_dtype`, as transformers reads them (PreTrainedConfig.__init__); null when neither is set.
 */
export function configDtype(raw: Readonly<Record<string, unknown>>, where = 'config.json'): DType | null {
  const key = raw['dtype'] !== undefined && raw['dtype'] !== null ? 'dtype' : 'torch_dtype';
  const value = raw[key];
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' && (CONFIG_DTYPES as readonly string[]).includes(value)) return value as DType;
  throw new ModelConfigError(key, `expected one of ${CONFIG_DTYPES.join(', ')}, got ${JSON.stringify(value)}`, where);
}

// libtorch's message when this build cannot run float16 layers on the CPU (null: it can), found once.
let float16Failure: string | null | undefined;

/**
 * Runs the kernels a forward pass needs (a linear layer with bias, layer and RMS norm, softmax)
 * on a tiny float16 tensor. libtorch 1.13 has no CPU half-precision matmul or layer norm; 2.x
 * has them. Probing here makes the failure a clear error at load time rather than libtorch's
 * "not implemented for 'Half'" at the first step, after the weights were read.
 */
function float16FailureOnCpu(): string | null {
  if (float16Failure === undefined) {
    try {
      torch.tidy(() => {
        const x = torch.ones([2, 4], { dtype: 'float16' });
        const y = x.linear(torch.ones([3, 4], { dtype: 'float16' }), torch.ones([3], { dtype: 'float16' }));
        y.layerNorm([3]).softmax(-1).pow(2).mean([-1], true).add(1e-6).rsqrt();
      });
      float16Failure = null;
    } catch (e) {
      float16Failure = (e as Error).message;
    }
  }
  return float16Failure;
}

function checkDtype(dtype: DType): DType {
  if (!isFloatingPoint(dtype))
    throw new RangeError(`dtype must be a floating-point type (float32, bfloat16, float16, float64), not ${dtype}`);
  const failure = dtype === 'float16' ? float16FailureOnCpu() : null;
  if (failure !== null) {
    throw new UnsupportedDtypeError(
      'float16',
      `float16 models cannot run on the CPU with this libtorch (${failure}). Load the model as bfloat16 ` +
        '(same memory, CPU kernels exist) or float32: torch_dtype: bfloat16 in a training config, --dtype bfloat16 on the command line, ' +
        "or { dtype: 'bfloat16' } in fromPretrained.",
    );
  }
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
  const raw = await readModelConfig(dir);
  const where = join(dir, 'config.json');
  const dtype = checkDtype(options.dtype === 'auto' ? (configDtype(raw, where) ?? 'float32') : (options.dtype ?? 'float32'));
  const architecture = architectureOf(raw, where);
  const entry = ARCHITECTURE_TABLE[architecture];
  entry.check(raw, where); // config errors before any weight is read
  await checkWeightFiles(dir);
  // Names and shapes from the files' headers against the parameters the model declares, before
  // any tensor data is read: a tensor the model has no place for (or a buffer such as GPT-2's
  // attn.bias masks, 4 MiB per layer on the hub) is never read at all.
  const declared = declaredParameters(architecture, raw, where, dtype);
  const stored = new Map<string, StoredTensor>();
  for (const [name, info] of await readSafetensorsDirHeader(dir)) {
    stored.set(name, {
      shape: info.shape,
      dtype: info.torchDtype !== undefined && isFloatingPoint(info.torchDtype) ? dtype : info.torchDtype,
    });
  }
  const toLoad = checkCheckpointKeys(stored, declared.shapes, declared.ties, entry.layout, dir);
  const { tensors } = await loadSafetensorsDir(dir, { dtype, names: (name) => toLoad.has(name) });
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
  if (options.adapter !== undefined) {
    try {
      await loadAdapter(model, options.adapter);
    } catch (e) {
      model.dispose();
      throw e;
    }
  }
  return model;
}

/**
 * The parameters `architecture` declares for a config (name -> shape in the model's layout) and
 * its tied names, found by building it on data-less parameters (see ShapeOnlySource).
 */
function declaredParameters(
  architecture: Architecture,
  raw: Readonly<Record<string, unknown>>,
  where: string,
  dtype: DType,
): { shapes: Map<string, readonly number[]>; ties: Map<string, string> } {
  const store = new ParameterStore(new ShapeOnlySource(), { dtype });
  const model = buildModel(architecture, store, raw, where);
  try {
    return {
      shapes: new Map(store.namedParameters().map(([name, t]) => [name, [...t.shape]])),
      ties: new Map(store.ties),
    };
  } finally {
    model.dispose();
  }
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
