// `alpha-dpo evaluate --model DIR --data FILE [--ref DIR] [--key value ...]`: the preference
// metrics of a model on a data set (reward accuracy, margins, log-probs, the loss's own metrics),
// computed exactly as the trainer's evaluation does.
import { writeFile } from 'node:fs/promises';
import { lossRequirements } from '../losses/preference-loss.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { evaluatePreferences, evaluationSettings } from '../train/evaluate.js';
import { checkModelFolder } from '../train/train.js';
import { parseOverrides, resolveTrainConfig, TrainConfigError } from '../train/train-config.js';
import { loadTrainingPairs } from '../train/training-data.js';
import { type CommandIO, lineWriter } from './command.js';

export const EVALUATE_HELP = `alpha-dpo evaluate: preference metrics of a model on a data set

Usage: alpha-dpo evaluate --model DIR --data FILE [--ref DIR | --adapter DIR] [--split NAME] [--json OUT.json] [--key value ...]

  --model DIR      the model to evaluate (Hugging Face folder)
  --ref DIR        the reference model, for losses that have one (DPO and most others)
  --adapter DIR    a PEFT LoRA adapter folder applied to --model; without --ref, the reference is
                   --model itself with the adapter off (as in training with use_peft)
  --data FILE      preference pairs in any format 'alpha-dpo data' reads
  --split NAME     which split of the data source (default: train, or the whole file)
  --json OUT.json  also write the metrics as JSON
  --key value      any loss or data key of 'alpha-dpo train --help' (loss_type, beta, max_length, ...)

Without --loss_type: with --ref or --adapter, DPO (sigmoid, beta 0.1, summed log-probs); without, the
per-token mean log-prob is the reward (simpo, beta 1, gamma_beta_ratio 0), so reward accuracy is
the fraction of pairs whose chosen completion has the higher mean log-prob.
Metrics use TRL's names with the eval_ prefix; each is a mean over all pairs.
`;

const OWN_FLAGS: Record<string, string> = { model: 'model', ref: 'ref', adapter: 'adapter', data: 'data', split: 'split', json: 'json' };

export async function runEvaluate(args: string[], io: CommandIO): Promise<number> {
  const out = (text: string) => io.out(text);
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    out(EVALUATE_HELP);
    return args.length === 0 ? 1 : 0;
  }
  const keys = parseOverrides(args);
  const own: Record<string, string> = {};
  for (const flag of Object.keys(OWN_FLAGS)) {
    if (flag in keys) {
      own[flag] = String(keys[flag]);
      delete keys[flag];
    }
  }
  if (!own.model || !own.data) throw new TrainConfigError('evaluate', 'needs --model DIR and --data FILE. Run alpha-dpo evaluate --help.');
  checkModelFolder('--model', own.model);
  if (own.ref) checkModelFolder('--ref', own.ref);
  if (own.adapter) checkModelFolder('--adapter', own.adapter);
  const defaults = own.ref || own.adapter ? { loss_type: 'sigmoid', beta: 0.1 } : { loss_type: 'simpo', beta: 1, gamma_beta_ratio: 0 };
  const config = resolveTrainConfig({
    ...(keys.loss_type === undefined ? defaults : {}),
    ...keys,
    model_name_or_path: own.model,
    dataset: own.data,
    ...(own.split ? { dataset_splits: [own.split] } : {}),
  });
  const need = lossRequirements(config.loss_type, config.loss);
  if (need.reference && !own.ref && !own.adapter) {
    throw new TrainConfigError('--ref', `the loss ${JSON.stringify(config.loss_type)} compares with a reference model: pass --ref DIR.`);
  }
  const tokenizer = await AutoTokenizer.fromPretrained(own.model);
  const { train: pairs } = await loadTrainingPairs(config, tokenizer, { log: lineWriter(io.err) });
  const policy = await AutoModelForCausalLM.fromPretrained(own.model, { adapter: own.adapter });
  const reference = need.reference && own.ref ? await AutoModelForCausalLM.fromPretrained(own.ref) : null;
  try {
    const settings = evaluationSettings(config);
    const source = reference ? { model: reference } : need.reference ? { model: policy, baseOfAdapter: true } : null;
    const metrics = (await evaluatePreferences(policy, source, pairs, settings, { tokenizer })) ?? {};
    out(`loss ${JSON.stringify(config.loss_type)}, ${config.ln ? 'averaged' : 'summed'} log-probs, ${pairs.length} pairs\n`);
    const width = Math.max(...Object.keys(metrics).map((k) => k.length));
    for (const [name, value] of Object.entries(metrics)) out(`${name.padEnd(width)}  ${value.toPrecision(6)}\n`);
    if (own.json)
      await writeFile(own.json, `${JSON.stringify({ pairs: pairs.length, loss_type: config.loss_type, ...metrics }, null, 2)}\n`);
    return 0;
  } finally {
    policy.dispose();
    reference?.dispose();
  }
}
