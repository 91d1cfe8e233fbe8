// `alpha-dpo train CONFIG.yaml [--key value ...] [--resume [DIR]]`: loads the models, tokenizer
// and data the config names, validates everything first, then runs the preference trainer.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATA_CONFIG_SCHEMA } from '../data/data-config.js';
import { DataSourceError } from '../data/errors.js';
import { loadPreferenceDataset } from '../data/preference-dataset.js';
import type { DataFilesSource } from '../data/read/data-files.js';
import { tokenizePreferencePairs } from '../data/tokenize/tokenize-pairs.js';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import { CONFIG_SCHEMA as LOSS_CONFIG_SCHEMA } from '../losses/config.js';
import { lossRequirements } from '../losses/preference-loss.js';
import { AutoModelForCausalLM } from '../models/auto.js';
import { AutoTokenizer } from '../tokenizers/auto-tokenizer.js';
import { trainPreferences } from '../train/preference-trainer.js';
import {
  parseOverrides,
  readTrainConfigFile,
  resolveTrainConfig,
  TRAIN_CONFIG_SCHEMA,
  type TrainConfig,
  TrainConfigError,
} from '../train/train-config.js';

const USAGE = `Usage: alpha-dpo train CONFIG.yaml [--key value ...] [--resume [CHECKPOINT_DIR]]

Trains model_name_or_path on the preference pairs of dataset (or dataset_mixer) with loss_type,
writing checkpoints, metrics.jsonl and the final Hugging Face model to output_dir. Keys are
TRL's and the α-DPO reference code's; --key value overrides the file (values read as YAML).
--resume continues the newest complete checkpoint in output_dir (or the one named).
`;

function keyHelp(): string {
  const rows: string[] = [];
  const section = (title: string, schema: Record<string, { doc: string; default?: unknown }>) => {
    rows.push(`\n${title}:`);
    for (const [key, spec] of Object.entries(schema)) {
      const def =
        'default' in spec && spec.default !== undefined && spec.default !== null ? ` (default ${JSON.stringify(spec.default)})` : '';
      rows.push(`  ${key}${def}\n      ${spec.doc}`);
    }
  };
  section('Training keys', TRAIN_CONFIG_SCHEMA);
  section('Loss keys (docs/losses.md)', LOSS_CONFIG_SCHEMA as Record<string, { doc: string; default?: unknown }>);
  section('Data keys (docs/data.md)', DATA_CONFIG_SCHEMA as Record<string, { doc: string; default?: unknown }>);
  return `${rows.join('\n')}\n`;
}

async function loadSplit(config: TrainConfig, source: DataFilesSource, split: string | null, log: (line: string) => void) {
  const dataset = await loadPreferenceDataset(source, config.data, { split, onWarning: (m) => log(`warning: ${m}`) });
  return dataset;
}

/** Reads the split, falling back to the whole source when it has no splits (a plain file or folder). */
async function readPairs(config: TrainConfig, source: DataFilesSource, split: string, log: (line: string) => void) {
  try {
    return await loadSplit(config, source, split, log);
  } catch (e) {
    if (!(e instanceof DataSourceError) || typeof source === 'object') throw e;
    return loadSplit(config, source, null, log);
  }
}

/** Only sources that can hold named splits (a { split: files } map, a folder, a .json file) give an eval split. */
function mayHoldSplits(source: unknown): boolean {
  if (source !== null && typeof source === 'object' && !Array.isArray(source)) return true;
  const paths = typeof source === 'string' ? [source] : Array.isArray(source) ? source : [];
  return paths.some((p) => typeof p === 'string' && !/\.(jsonl|ndjson|parquet)(\.gz)?$/i.test(p));
}

export async function runTrain(args: string[], log: (line: string) => void): Promise<number> {
  if (args.length === 0 || args.includes('--help') || args.includes('-h')) {
    process.stdout.write(USAGE + keyHelp());
    return args.length === 0 ? 1 : 0;
  }
  const [file, ...rest] = args as [string, ...string[]];
  if (file.startsWith('--')) throw new TrainConfigError('config', 'the first argument must be the YAML config file.');
  const resumeAt = rest.indexOf('--resume');
  let resume: string | null = null;
  if (resumeAt >= 0) {
    const next = rest[resumeAt + 1];
    resume = next !== undefined && !next.startsWith('--') ? next : 'latest';
    rest.splice(resumeAt, next !== undefined && !next.startsWith('--') ? 2 : 1);
  }
  const fromFile = await readTrainConfigFile(file);
  const overrides = parseOverrides(rest);
  // A data source given on the command line replaces the file's, whichever of the two forms either uses.
  if ('dataset' in overrides || 'dataset_mixer' in overrides) {
    delete fromFile.dataset;
    delete fromFile.dataset_mixer;
  }
  const raw = { ...fromFile, ...overrides, ...(resume ? { resume_from_checkpoint: resume } : {}) };
  const config = resolveTrainConfig(raw);
  for (const key of ['model_name_or_path', 'output_dir'] as const) {
    if (config[key] === null) throw new TrainConfigError(key, 'is required.');
  }
  if (config.dataset === null && config.dataset_mixer === null) throw new TrainConfigError('dataset', 'is required (or dataset_mixer).');
  for (const { key, why } of config.ignored) log(`note: '${key}' has no effect here: ${why}`);

  const modelDir = config.model_name_or_path as string;
  const tokenizer = await AutoTokenizer.fromPretrained(modelDir);
  const [trainSplit, evalSplit] = config.dataset_splits;
  const sources: { source: DataFilesSource; fraction: number }[] = config.dataset_mixer
    ? Object.entries(config.dataset_mixer).map(([source, fraction]) => ({ source, fraction }))
    : [{ source: config.dataset as DataFilesSource, fraction: 1 }];

  const tokenized = (pairs: Parameters<typeof tokenizePreferencePairs>[0], what: string): TokenizedPair[] => {
    const t = tokenizePreferencePairs(pairs, tokenizer, config.data, { onWarning: (m) => log(`warning: ${m}`) });
    const odd = t.report.toJSON();
    const kinds = Object.entries(odd).map(([k, v]) => `${k} ${v.count}`);
    log(`${what}: ${t.pairs.length} pairs${kinds.length ? ` (tokenisation: ${kinds.join(', ')})` : ''}`);
    return t.pairs;
  };
  const train: TokenizedPair[] = [];
  const evalPairs: TokenizedPair[] = [];
  for (const { source, fraction } of sources) {
    const dataset = await readPairs(config, source, trainSplit, log);
    const rows = Object.entries(dataset.report.toJSON()).map(([k, v]) => `${k} ${v.count}`);
    log(
      `read ${dataset.files.join(', ')}: format ${dataset.format}, ${dataset.pairs.length} pairs${rows.length ? `; odd rows: ${rows.join(', ')}` : ''}`,
    );
    train.push(...tokenized(dataset.pairs.slice(0, Math.ceil(dataset.pairs.length * fraction)), 'train'));
    if (config.eval_dataset === null && mayHoldSplits(source)) {
      try {
        const e = await loadSplit(config, source, evalSplit, log);
        evalPairs.push(...tokenized(e.pairs.slice(0, Math.ceil(e.pairs.length * fraction)), `eval (${evalSplit})`));
      } catch (err) {
        if (!(err instanceof DataSourceError)) throw err;
        log(`no '${evalSplit}' split in ${JSON.stringify(source)}: no evaluation data from it`);
      }
    }
  }
  if (config.eval_dataset !== null) {
    const e = await readPairs(config, config.eval_dataset as DataFilesSource, evalSplit, log);
    evalPairs.push(...tokenized(e.pairs, 'eval'));
  }

  const dtype = config.torch_dtype === null || config.torch_dtype === 'auto' ? 'float32' : config.torch_dtype;
  const policy = await AutoModelForCausalLM.fromPretrained(modelDir, { dtype });
  const needsReference = lossRequirements(config.loss_type, config.loss).reference;
  const reference = needsReference ? await AutoModelForCausalLM.fromPretrained(config.ref_model_name_or_path ?? modelDir, { dtype }) : null;
  log(
    `policy ${policy.architecture} (${(policy.numParameters / 1e6).toFixed(1)}M parameters, ${dtype})` +
      `${reference ? `, reference ${config.ref_model_name_or_path ?? modelDir}` : ', no reference model'}; loss ${JSON.stringify(config.loss_type)}` +
      `, ${config.ln ? 'averaged' : 'summed'} log-probs`,
  );
  try {
    const summary = await trainPreferences(
      config,
      { policy, reference, tokenizer, train, eval: evalPairs, rawConfig: raw },
      { log, handleSigint: true },
    );
    const out = join(config.output_dir as string, 'train_summary.json');
    await writeFile(out, `${JSON.stringify({ ...summary, stepLosses: undefined, run_name: config.run_name }, null, 2)}\n`);
    log(
      summary.interrupted
        ? `stopped at step ${summary.steps}/${summary.totalSteps}; continue with: alpha-dpo train ${file} --resume`
        : `done: ${summary.steps} steps in ${summary.seconds.toFixed(0)} s (${summary.tokensPerSecond.toFixed(0)} tokens/s); final loss ${summary.finalLoss.toFixed(4)}` +
            `${summary.evalMetrics ? `, eval reward accuracy ${(summary.evalMetrics['eval_rewards/accuracies'] ?? Number.NaN).toFixed(3)}` : ''}`,
    );
    return summary.interrupted ? 130 : 0;
  } finally {
    policy.dispose();
    reference?.dispose();
  }
}
