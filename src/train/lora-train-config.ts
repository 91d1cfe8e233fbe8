// The LoRA keys of a training config, with TRL's ModelConfig names and defaults (trl/trainer/
// model_config.py: use_peft, lora_r 16, lora_alpha 32, lora_dropout 0.05, lora_target_modules,
// lora_modules_to_save, use_rslora) and LLaMA-Factory's adapter_name_or_path to continue an
// adapter. Composed into TRAIN_CONFIG_SCHEMA; how they build the adapter is train.ts's policyAdapter.
import { type CustomField, describeValue, type Field } from '../config/index.js';

const TRL_MODEL = 'TRL ModelConfig';

type Fail = (detail: string, subKey?: string) => never;

function parseNames(value: unknown, fail: Fail): string[] | string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' && value !== '') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string' && v !== '')) return value as string[];
  return fail(`expected a module name, a list of module names, 'all-linear' or null, got ${describeValue(value)}.`);
}

function parseNameList(value: unknown, fail: Fail): string[] | null {
  const names = parseNames(value, fail);
  return typeof names === 'string' ? [names] : names;
}

export const LORA_CONFIG_SCHEMA = {
  use_peft: {
    type: 'boolean',
    default: false,
    doc:
      'Train a LoRA adapter instead of every weight: the base is frozen, only the adapter (and lora_modules_to_save) train, and the ' +
      'final output is a PEFT adapter folder. Without ref_model_name_or_path the reference is the base model with the adapter switched off.',
    source: TRL_MODEL,
  },
  lora_r: { type: 'number', default: 16, min: 1, integer: true, doc: 'LoRA rank r (A is [r, in], B [out, r]).', source: TRL_MODEL },
  lora_alpha: {
    type: 'number',
    default: 32,
    min: 0,
    doc: 'LoRA α: the branch is scaled by lora_alpha / lora_r (lora_alpha / √lora_r with use_rslora).',
    source: TRL_MODEL,
  },
  lora_dropout: {
    type: 'number',
    default: 0.05,
    min: 0,
    max: 0.99,
    doc: "Dropout probability on the LoRA branch input. Like every dropout it is off under disable_dropout (TRL zeroes every nn.Dropout, PEFT's LoRA one included).",
    source: TRL_MODEL,
  },
  lora_target_modules: {
    type: 'custom',
    default: null,
    parse: parseNames,
    accepts: "a module name, a list of names, 'all-linear', or one regular expression",
    doc:
      "Linear layers to adapt: names or dotted suffixes (q_proj, v_proj, c_attn), 'all-linear' (every linear layer but the LM head), " +
      "or a string that is a regular expression over whole module names. null: PEFT's default for the architecture (Llama family: q_proj, v_proj; GPT-2: c_attn).",
    source: TRL_MODEL,
  } satisfies CustomField<string[] | string | null>,
  lora_modules_to_save: {
    type: 'custom',
    default: null,
    parse: parseNameList,
    accepts: 'a module name or a list of names, or null',
    doc: 'Modules trained in full beside the adapter and saved in it (e.g. ln_f, model.norm); the base values serve the reference.',
    source: TRL_MODEL,
  } satisfies CustomField<string[] | null>,
  use_rslora: { type: 'boolean', default: false, doc: 'rsLoRA: scale the branch by lora_alpha / √lora_r.', source: TRL_MODEL },
  adapter_name_or_path: {
    type: 'string',
    default: null,
    doc:
      'A PEFT LoRA adapter folder to continue training (needs use_peft); its adapter_config.json sets r, alpha, dropout and targets ' +
      '(lora_* keys beside it have no effect, with a note).',
    source: 'LLaMA-Factory',
  },
} as const satisfies Record<string, Field>;

/**
 * The LoRA keys' cross-field rules: lora_* and adapter_name_or_path need use_peft (problems); with
 * adapter_name_or_path the adapter's own adapter_config.json sets r, alpha, dropout and targets, so
 * lora_* keys given beside it have no effect (notes, so a LoRA config can continue its own adapter).
 */
export function loraConfigRules(
  values: { use_peft: boolean; adapter_name_or_path: string | null },
  given: readonly string[],
): { problems: [string, string][]; notes: { key: string; why: string }[] } {
  const loraKeys = given.filter((k) => k.startsWith('lora_') || k === 'use_rslora');
  if (!values.use_peft) {
    const keys = [...loraKeys, ...given.filter((k) => k === 'adapter_name_or_path')];
    return {
      problems: keys.map((k) => [k, 'has no effect without use_peft: true (set it to train a LoRA adapter, or remove this key).']),
      notes: [],
    };
  }
  if (values.adapter_name_or_path === null) return { problems: [], notes: [] };
  return {
    problems: [],
    notes: loraKeys.map((key) => ({
      key,
      why: `the adapter in ${values.adapter_name_or_path} brings its own setting (its adapter_config.json).`,
    })),
  };
}
