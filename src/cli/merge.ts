// `alpha-dpo merge --model BASE --adapter DIR --out OUT`: a LoRA adapter folded into its base's
// weights (PEFT's merge_and_unload), written as a plain Hugging Face folder that transformers and
// every alpha-dpo command load without the adapter.
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AutoModelForCausalLM } from '../models/auto.js';
import type { DType } from '../tensor/dtype.js';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { type CommandIO, lineWriter, UsageError } from './command.js';

export const MERGE_HELP = `alpha-dpo merge: fold a LoRA adapter into its base model's weights

Usage: alpha-dpo merge --model BASE --adapter DIR --out OUT [--dtype D]

  --model BASE     the base model folder the adapter was trained on
  --adapter DIR    a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors),
                   e.g. the output_dir of a use_peft training run
  --out OUT        the merged Hugging Face folder to write (new or empty): config.json,
                   model.safetensors, and BASE's tokenizer files when it has them
  --dtype D        dtype of the merged weights: auto (default: the base's config.json dtype),
                   float32, bfloat16 or float16. W + scaling·B·A is computed in float32 and rounded once.
`;

export async function runMerge(argv: string[], io: CommandIO): Promise<number> {
  const log = lineWriter(io.err);
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: 'string' },
        adapter: { type: 'string' },
        out: { type: 'string' },
        dtype: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}. Run alpha-dpo merge --help.`);
  }
  if (values['help']) {
    io.out(MERGE_HELP);
    return 0;
  }
  const base = values['model'] as string | undefined;
  const adapter = values['adapter'] as string | undefined;
  const out = values['out'] as string | undefined;
  if (base === undefined || adapter === undefined || out === undefined)
    throw new UsageError('merge needs --model BASE, --adapter DIR and --out OUT. Run alpha-dpo merge --help.');
  const dtype = (values['dtype'] as string | undefined) ?? 'auto';
  if (!['auto', 'float32', 'bfloat16', 'float16'].includes(dtype))
    throw new UsageError(`--dtype must be auto, float32, bfloat16 or float16, got '${dtype}'`);
  if (existsSync(out) && (await readdir(out)).length > 0)
    throw new UsageError(`--out ${out} is not empty; choose a new folder, so no model is overwritten.`);

  const model = await AutoModelForCausalLM.fromPretrained(base, { dtype: dtype as DType | 'auto', adapter });
  try {
    const lora = model.adapter;
    if (lora === null) throw new Error('internal: fromPretrained with an adapter returned a model without one');
    const layers = lora.targets.length;
    lora.merge();
    const tokenizer = existsSync(join(base, 'tokenizer.json')) ? await AutoTokenizer.fromPretrained(base) : undefined;
    await mkdir(out, { recursive: true });
    await model.savePretrained(out, { tokenizer });
    log(
      `merged ${adapter} (r=${lora.settings.r}, ${layers} layers) into ${base}: ${out} (${model.dtype})` +
        (tokenizer ? '' : `; ${base} has no tokenizer.json, so none was copied`),
    );
  } finally {
    model.dispose();
  }
  return 0;
}
