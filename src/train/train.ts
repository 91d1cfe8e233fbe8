// train(): the whole run from a config, as `alpha-dpo train` does it: check the config, load the
// tokenizer, the policy and (when the loss needs one) the reference model, read and tokenise
// the data, then trainPreferences(). Models are released when it returns.
import { existsSync } from 'node:fs';
import { lossRequirements } from '../losses/preference-loss.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import type { CausalLM } from '../models/causal-lm.js';
import { LoraAdapter } from '../models/lora-adapter.js';
import { defaultLoraTargets } from '../models/lora-config.js';
import { loadAdapter } from '../models/peft-adapter-files.js';
import * as torch from '../tensor/torch.js';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { type PreferenceTrainerInputs, type TrainOptions, type TrainSummary, trainPreferences } from './preference-trainer.js';
import { joinProcessGroupFromEnv } from './process-group.js';
import { missingTrainKeys, resolveTrainConfig, type TrainConfig, TrainConfigError } from './train-config.js';
import { loadTrainingPairs } from './training-data.js';

/** A path that does not exist here but reads like `org/name` was meant for the Hugging Face hub. */
export function checkModelFolder(key: string, path: string): void {
  if (existsSync(path)) return;
  const hub = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(path);
  throw new TrainConfigError(
    key,
    hub
      ? `'${path}' is not a folder here; it looks like a Hugging Face hub name, and alpha-dpo does not download models. ` +
          `Download it on a machine with hub access (e.g. \`huggingface-cli download ${path} --local-dir ${path.split('/')[1]}\`) and pass that folder.`
      : `no such folder: ${path}.`,
  );
}

function isResolved(config: TrainConfig | Record<string, unknown>): config is TrainConfig {
  return Array.isArray((config as TrainConfig).ignored) && typeof (config as TrainConfig).data === 'object';
}

/**
 * The LoRA adapter use_peft asks for on `policy`: the folder adapter_name_or_path names, or a new one
 * from the lora_* keys (A drawn after torch.manualSeed(seed)). Its tensors are float32 whatever torch_dtype is.
 */
async function attachPolicyAdapter(policy: CausalLM, config: TrainConfig): Promise<LoraAdapter> {
  if (config.adapter_name_or_path !== null) return loadAdapter(policy, config.adapter_name_or_path);
  const targets = config.lora_target_modules ?? defaultLoraTargets(policy.modelType);
  if (targets === null) {
    throw new TrainConfigError(
      'lora_target_modules',
      `PEFT has no default LoRA targets for model_type '${policy.modelType}': name them, e.g. [qkv_proj, o_proj] or 'all-linear'.`,
    );
  }
  torch.manualSeed(config.seed);
  const settings = {
    r: config.lora_r,
    lora_alpha: config.lora_alpha,
    lora_dropout: config.lora_dropout,
    target_modules: targets,
    modules_to_save: config.lora_modules_to_save,
    use_rslora: config.use_rslora,
  };
  return LoraAdapter.attach(policy, settings, 'config (lora_* keys)');
}

/**
 * The models a config names, in the dtype it asks for. With use_peft the policy gets its LoRA
 * adapter, and the reference is loaded only when ref_model_name_or_path names one (otherwise
 * it is the policy with the adapter off: one copy of the base weights).
 */
async function loadModels(config: TrainConfig, needsReference: boolean): Promise<{ policy: CausalLM; reference: CausalLM | null }> {
  const modelDir = config.model_name_or_path as string;
  const dtypeOf = (key: TrainConfig['torch_dtype']) => (key === null || key === 'auto' ? null : key);
  const dtype = dtypeOf(config.torch_dtype) ?? 'float32';
  const referenceDtype = dtypeOf(config.ref_model_dtype) ?? dtype;
  const policy = await AutoModelForCausalLM.fromPretrained(modelDir, { dtype });
  try {
    if (config.use_peft) await attachPolicyAdapter(policy, config);
    const separate = needsReference && !(config.use_peft && config.ref_model_name_or_path === null);
    const reference = separate
      ? await AutoModelForCausalLM.fromPretrained(config.ref_model_name_or_path ?? modelDir, { dtype: referenceDtype })
      : null;
    return { policy, reference };
  } catch (e) {
    policy.dispose();
    throw e;
  }
}

/** train()'s options: the trainer's, plus where each raw key came from (for messages). */
export interface TrainRunOptions extends TrainOptions {
  /** A file name, or a function naming each key's source (`--beta`, `config.yaml`). */
  configWhere?: string | ((key: string) => string | null);
}

/**
 * Trains from a config: a resolved TrainConfig or the raw keys of a YAML file (resolved here).
 * The config needs model_name_or_path, output_dir and dataset (or dataset_mixer).
 */
export async function train(config: TrainConfig | Record<string, unknown>, options: TrainRunOptions = {}): Promise<TrainSummary> {
  const log = options.log ?? ((line: string) => console.log(line));
  const raw = isResolved(config) ? undefined : config;
  const required = ['model_name_or_path', 'output_dir', 'dataset'] as const;
  const resolved = isResolved(config)
    ? config
    : resolveTrainConfig(config, { required, ...(options.configWhere ? { where: options.configWhere } : {}) });
  // A raw config had its required keys checked with every other problem; a resolved one is checked here.
  const [missing] = missingTrainKeys(resolved, required);
  if (missing) throw new TrainConfigError(missing.key, missing.detail);
  checkModelFolder('model_name_or_path', resolved.model_name_or_path as string);
  if (resolved.ref_model_name_or_path !== null) checkModelFolder('ref_model_name_or_path', resolved.ref_model_name_or_path);
  if (resolved.adapter_name_or_path !== null) checkModelFolder('adapter_name_or_path', resolved.adapter_name_or_path);
  for (const { key, why } of resolved.ignored) log(`note: '${key}' has no effect here: ${why}`);

  // A worker of a multi-process run (docs/distributed.md) joins its group before the slow loading, so a bad rendezvous fails first.
  const group = joinProcessGroupFromEnv(resolved, log);
  try {
    return await trainLoaded(resolved, raw, options, log);
  } finally {
    group?.leave();
  }
}

async function trainLoaded(
  resolved: TrainConfig,
  raw: Record<string, unknown> | undefined,
  options: TrainRunOptions,
  log: (line: string) => void,
): Promise<TrainSummary> {
  const tokenizer = await AutoTokenizer.fromPretrained(resolved.model_name_or_path as string);
  const data = await loadTrainingPairs(resolved, tokenizer, { log });
  const need = lossRequirements(resolved.loss_type, resolved.loss);
  const { policy, reference } = await loadModels(resolved, need.reference);
  const referenceNote = reference
    ? `, reference ${resolved.ref_model_name_or_path ?? resolved.model_name_or_path}`
    : need.reference && policy.adapter
      ? ', reference: the base model (adapter off)'
      : ', no reference model';
  const adapterNote = policy.adapter
    ? `; LoRA r=${policy.adapter.settings.r} on ${policy.adapter.targets.length} layers (${(policy.adapter.numParameters / 1e6).toFixed(2)}M trainable)`
    : '';
  log(
    `policy ${policy.architecture} (${(policy.numParameters / 1e6).toFixed(1)}M parameters)${adapterNote}${referenceNote}` +
      `; loss ${JSON.stringify(resolved.loss_type)}, ${resolved.ln ? 'averaged' : 'summed'} log-probs`,
  );
  const inputs: PreferenceTrainerInputs = {
    policy,
    reference,
    tokenizer,
    train: data.train,
    eval: data.eval,
    ...(raw ? { rawConfig: raw } : {}),
  };
  try {
    return await trainPreferences(resolved, inputs, { ...options, log });
  } finally {
    policy.dispose();
    reference?.dispose();
  }
}
