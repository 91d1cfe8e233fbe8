// `alpha-dpo generate --model DIR --prompt TEXT [...]`: continue prompts with a model folder's
// model and tokenizer: greedy by default, sampled with --temperature > 0.

import { parseArgs } from 'node:util';
import { generateText } from '../generation/generate.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import type { DType } from '../tensor/dtype.js';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { type CommandIO, UsageError } from './command.js';

export const GENERATE_HELP = `alpha-dpo generate: continue text prompts with a Hugging Face model folder

Usage: alpha-dpo generate --model DIR --prompt TEXT [--prompt TEXT ...] [options]

  --model DIR           config.json + *.safetensors + tokenizer.json (tokenizer_config.json for --chat)
  --adapter DIR         a PEFT LoRA adapter folder (adapter_config.json + adapter_model.safetensors)
                        applied to --model, e.g. the output_dir of a use_peft run
  --prompt TEXT         a prompt; repeat for a left-padded batch
  --max-new-tokens N    most tokens to generate per prompt (default 64)
  --temperature T       0 = greedy (default); > 0 samples at this temperature
  --top-k K             sample among the K most likely tokens; 0 = off (default 50, as transformers)
  --top-p P             nucleus sampling mass in (0, 1] (default 1 = off)
  --seed S              seed of the sampling streams (default 0): same seed, same text
  --stop TEXT           also stop a prompt once its completion contains TEXT (as given, no escapes:
                        a blank line in bash is $'\\n\\n'); repeatable
  --chat                wrap each prompt as a user message in the model's chat template
  --dtype D             float32 (default), bfloat16 or float16
  --no-cache            recompute the whole sequence each step instead of using the KV cache
  --json                one JSON object per prompt: prompt, completion, tokens, finish_reason
`;

function number(
  name: string,
  value: string | undefined,
  fallback: number,
  integer: boolean,
  range: [number, number] = [0, Infinity],
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || (integer && !Number.isSafeInteger(n))) {
    throw new UsageError(`--${name} expects ${integer ? 'an integer' : 'a number'}, got '${value}'`);
  }
  if (n < range[0] || n > range[1]) {
    const upper = range[1] === Infinity ? '' : ` and ≤ ${range[1]}`;
    throw new UsageError(`--${name} must be ≥ ${range[0]}${upper}, got ${value}`);
  }
  return n;
}

export async function runGenerate(argv: string[], io: CommandIO): Promise<number> {
  const out = (text: string) => io.out(text);
  let values: Record<string, string | string[] | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        model: { type: 'string' },
        adapter: { type: 'string' },
        prompt: { type: 'string', multiple: true },
        'max-new-tokens': { type: 'string' },
        temperature: { type: 'string' },
        'top-k': { type: 'string' },
        'top-p': { type: 'string' },
        seed: { type: 'string' },
        stop: { type: 'string', multiple: true },
        chat: { type: 'boolean' },
        dtype: { type: 'string' },
        'no-cache': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}. Run alpha-dpo generate --help.`);
  }
  if (values['help']) {
    out(GENERATE_HELP);
    return 0;
  }
  const model = values['model'] as string | undefined;
  const prompts = (values['prompt'] as string[] | undefined) ?? [];
  if (model === undefined || prompts.length === 0)
    throw new UsageError('generate needs --model DIR and at least one --prompt TEXT. Run alpha-dpo generate --help.');
  const temperature = number('temperature', values['temperature'] as string | undefined, 0, false);
  if (temperature < 0) throw new UsageError('--temperature must be ≥ 0 (0 = greedy)');
  const dtype = (values['dtype'] as string | undefined) ?? 'float32';
  if (!['float32', 'bfloat16', 'float16'].includes(dtype))
    throw new UsageError(`--dtype must be float32, bfloat16 or float16, got '${dtype}'`);

  // Every flag is checked before the model loads.
  const maxNewTokens = number('max-new-tokens', values['max-new-tokens'] as string | undefined, 64, true, [1, Infinity]);
  const topK = number('top-k', values['top-k'] as string | undefined, 50, true);
  const topP = number('top-p', values['top-p'] as string | undefined, 1, false, [Number.MIN_VALUE, 1]);
  const seed = number('seed', values['seed'] as string | undefined, 0, true);
  const tokenizer = await AutoTokenizer.fromPretrained(model);
  const lm = await AutoModelForCausalLM.fromPretrained(model, { dtype: dtype as DType, adapter: values['adapter'] as string | undefined });
  try {
    const results = generateText(lm, tokenizer, prompts, {
      maxNewTokens,
      doSample: temperature > 0,
      temperature: temperature > 0 ? temperature : 1,
      topK,
      topP,
      seed,
      stopStrings: (values['stop'] as string[] | undefined) ?? [],
      useCache: !values['no-cache'],
      chat: values['chat'] === true,
    });
    results.forEach((r, i) => {
      if (values['json']) {
        out(`${JSON.stringify({ prompt: prompts[i], completion: r.text, tokens: r.tokens, finish_reason: r.finishReason })}\n`);
      } else {
        out(prompts.length > 1 ? `--- ${i + 1}: ${JSON.stringify(prompts[i])} (${r.finishReason})\n${r.text}\n` : `${r.text}\n`);
      }
    });
  } finally {
    lm.dispose();
  }
  return 0;
}
