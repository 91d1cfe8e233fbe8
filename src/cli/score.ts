// `alpha-dpo score --model DIR --data FILE --out FILE.jsonl`: each preference pair's chosen and
// rejected completion log-probs under a model (summed over completion tokens, and averaged per
// token), one JSON line per pair. How a user inspects a model, or precomputes reference
// log-probs. The data file is read, rendered and tokenised by the data layer exactly as for
// training (same formats and data settings).
import { basename } from 'node:path';
import { collateArrays, collatedTensors } from '../data/batch/collate-pairs.js';
import { resolvePaddingValue } from '../data/batch/preference-batches.js';
import { resolveDataConfig } from '../data/data-config.js';
import { loadPreferenceDataset } from '../data/preference-dataset.js';
import { formatLocation } from '../data/row-location.js';
import { tokenizePreferencePairs } from '../data/tokenize/tokenize-pairs.js';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';
import { sequenceLogps } from '../losses/sequence-logps.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import type { DType } from '../tensor/dtype.js';
import * as torch from '../tensor/torch.js';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { type CommandIO, UsageError } from './command.js';
import { dataFlagsHelp, parseDataArgs } from './data-args.js';

export const SCORE_HELP = `alpha-dpo score: per-pair log-probs of a preference dataset under a model

Usage: alpha-dpo score --model DIR --data FILE --out OUT.jsonl [options] [data settings]

  --model DIR        config.json + *.safetensors + tokenizer.json (+ tokenizer_config.json)
  --adapter DIR      a PEFT LoRA adapter folder applied to --model (e.g. a use_peft run's output_dir)
  --data FILE        a preference dataset in any format 'alpha-dpo data' reads (repeatable)
  --out OUT.jsonl    one line per usable pair, in dataset order:
                       {"row": "file:line", "chosen_logps": Σ log p, "rejected_logps": Σ log p,
                        "chosen_logps_avg": mean per token, "rejected_logps_avg": mean per token,
                        "chosen_tokens": n, "rejected_tokens": n}
                     (natural-log probabilities of the completion tokens given the prompt)
  --batch-size N     pairs per forward pass (default 4)
  --split NAME       which split of the data source
  --dtype D          float32 (default), bfloat16 or float16

Data settings (as for training; see alpha-dpo data --help):
${dataFlagsHelp()}
`;

export async function runScore(argv: string[], io: CommandIO): Promise<number> {
  const { out, err } = io;
  if (argv.includes('--help') || argv.includes('-h')) {
    out(SCORE_HELP);
    return 0;
  }
  const args = parseDataArgs(argv, ['model', 'adapter', 'data', 'out', 'batch-size', 'split', 'dtype'], []);
  const model = args.flags.get('model');
  const outPath = args.flags.get('out');
  const data = [...(args.flags.has('data') ? [args.flags.get('data') as string] : []), ...args.files];
  if (model === undefined || outPath === undefined || data.length === 0) {
    throw new UsageError('score needs --model DIR, --data FILE and --out FILE. Run alpha-dpo score --help.');
  }
  const batchSize = Number(args.flags.get('batch-size') ?? '4');
  if (!Number.isSafeInteger(batchSize) || batchSize < 1)
    throw new UsageError(`--batch-size must be a whole number ≥ 1, got '${args.flags.get('batch-size')}'`);
  const dtype = args.flags.get('dtype') ?? 'float32';
  if (!['float32', 'bfloat16', 'float16'].includes(dtype))
    throw new UsageError(`--dtype must be float32, bfloat16 or float16, got '${dtype}'`);

  const config = resolveDataConfig(args.config);
  const dataset = await loadPreferenceDataset(data.length === 1 ? (data[0] as string) : data, config, {
    split: args.flags.get('split') ?? null,
    onWarning: (m) => err(`warning: ${m}\n`),
  });
  const tokenizer = await AutoTokenizer.fromPretrained(model);
  const tokenized = tokenizePreferencePairs(dataset.pairs, tokenizer, config, { onWarning: (m) => err(`warning: ${m}\n`) });
  const lm = await AutoModelForCausalLM.fromPretrained(model, { dtype: dtype as DType, adapter: args.flags.get('adapter') });
  const paddingValue = resolvePaddingValue(config, tokenizer);
  const lines: string[] = [];
  const started = performance.now();
  let reported = started;
  try {
    for (let start = 0; start < tokenized.pairs.length; start += batchSize) {
      // A line every 30 s, so a long scoring run shows it is alive (stderr; stdout stays clean).
      if (performance.now() - reported > 30_000) {
        reported = performance.now();
        const rate = start / ((reported - started) / 1000);
        err(`scoring: ${start}/${tokenized.pairs.length} pairs (${rate.toFixed(1)} pairs/s)\n`);
      }
      const pairs = tokenized.pairs.slice(start, start + batchSize);
      const rows = torch.noGrad(() =>
        torch.tidy(() => {
          const batch = collatedTensors(collateArrays(pairs, { paddingValue, padToMultipleOf: null }));
          const logits = lm.forward(batch.inputIds, { attentionMask: batch.attentionMask }).to('float32'); // [2B, T, V]
          return {
            sum: sequenceLogps(logits, batch.labels, { average: false }).toNumbers(),
            avg: sequenceLogps(logits, batch.labels, { average: true }).toNumbers(),
          };
        }),
      );
      const b = pairs.length;
      pairs.forEach((pair, i) => {
        lines.push(
          JSON.stringify({
            row: formatLocation(pair.source),
            chosen_logps: rows.sum[i],
            rejected_logps: rows.sum[b + i],
            chosen_logps_avg: rows.avg[i],
            rejected_logps_avg: rows.avg[b + i],
            chosen_tokens: pair.chosen.completion.length,
            rejected_tokens: pair.rejected.completion.length,
          }),
        );
      });
    }
  } finally {
    lm.dispose();
  }
  const bytes = new TextEncoder().encode(lines.map((l) => `${l}\n`).join(''));
  await writeFileAtomically(outPath, (fh) => writeFully(fh, bytes, 0));
  err(
    `scored ${lines.length} pairs of ${dataset.rows} rows (${basename(data[0] as string)}${data.length > 1 ? ', …' : ''}) into ${outPath}\n`,
  );
  return 0;
}
