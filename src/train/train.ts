// train(): the whole run from a config, as `alpha-dpo train` does it: check the config, load the
// tokenizer, the policy and (when the loss needs one) the reference model, read and tokenise
// the data, then trainPreferences(). Models are released when it returns.
import { existsSync } from 'node:fs';
import { lossRequirements } from '../losses/preference-loss.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import type { CausalLM } from '../models/causal-lm.js';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { type PreferenceTrainerInputs, type TrainOptions, type TrainSummary, trainPreferences } from './preference-trainer.js';
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

/** The models a config names, in the dtype it asks for. */
async function loadModels(config: TrainConfig, needsReference: boolean): Promise<{ policy: CausalLM; reference: CausalLM | null }> {
  const modelDir = config.model_name_or_path as string;
  const dtypeOf = (key: TrainConfig['torch_dtype']) => (key === null || key === 'auto' ? null : key);
  const dtype = dtypeOf(config.torch_dtype) ?? 'float32';
  const referenceDtype = dtypeOf(config.ref_model_dtype) ?? dtype;
  const policy = await AutoModelForCausalLM.fromPretrained(modelDir, { dtype });
  try {
    const reference = needsReference
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
  for (const { key, why } of resolved.ignored) log(`note: '${key}' has no effect here: ${why}`);

  const tokenizer = await AutoTokenizer.fromPretrained(resolved.model_name_or_path as string);
  const data = await loadTrainingPairs(resolved, tokenizer, { log });
  const need = lossRequirements(resolved.loss_type, resolved.loss);
  const { policy, reference } = await loadModels(resolved, need.reference);
  log(
    `policy ${policy.architecture} (${(policy.numParameters / 1e6).toFixed(1)}M parameters)` +
      `${reference ? `, reference ${resolved.ref_model_name_or_path ?? resolved.model_name_or_path}` : ', no reference model'}` +
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
