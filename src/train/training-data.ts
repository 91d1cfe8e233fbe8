// The training and evaluation pairs a config names, tokenised: `dataset` or `dataset_mixer`
// (each source's train split, or the whole source when it has no splits, cut to the mixer's
// fraction), evaluation from eval_dataset, else each source's eval split, else eval_split_size
// pairs held out of the training pairs. Every step is reported through `log`. A loss on unpaired
// examples (lossRequirements().examples) reads unpaired rows (or unpairs pairs, as TRL's
// KTOTrainer) and gets them laid out with their KL rows (data/batch/unpaired-rows.ts).
import { unpairedRows } from '../data/batch/unpaired-rows.js';
import { SplitChoiceError } from '../data/errors.js';
import { unpairPairs } from '../data/formats/unpair-pairs.js';
import { loadPreferenceDataset, type PreferenceDataset } from '../data/preference-dataset.js';
import type { DataFilesSource } from '../data/read/data-files.js';
import { tokenizePreferencePairs } from '../data/tokenize/tokenize-pairs.js';
import { type TokenizedExample, tokenizeUnpairedExamples } from '../data/tokenize/tokenize-unpaired.js';
import type { TokenizedPair } from '../data/tokenize/tokenized-pair.js';
import { lossRequirements } from '../losses/preference-loss.js';
import { unpairedWeightAdvice } from '../losses/unpaired-weights.js';
import { SeededRandom } from '../random/seeded-random.js';
import type { Tokenizer } from '../tokenizers/tokenizer.js';
import { type TrainConfig, TrainConfigError } from './train-config.js';

export interface TrainingPairs {
  /** Pairs, or for an unpaired loss its examples with their KL rows (TokenizedPair.label set). */
  train: TokenizedPair[];
  eval: TokenizedPair[];
}

/** Reads `split` of `source`; `null` reads the whole source (a plain file or folder has no splits). */
async function readSplit(config: TrainConfig, source: DataFilesSource, split: string | null, log: (line: string) => void) {
  return loadPreferenceDataset(source, config.data, { split, onWarning: (m) => log(`warning: ${m}`) });
}

/** The train split, falling back to the whole source when it has no splits. */
async function readTrainSplit(config: TrainConfig, source: DataFilesSource, split: string, log: (line: string) => void) {
  try {
    return await readSplit(config, source, split, log);
  } catch (e) {
    if (!(e instanceof SplitChoiceError) || typeof source === 'object') throw e;
    return readSplit(config, source, null, log);
  }
}

/** Only sources that can hold named splits (a { split: files } map, a folder, a .json file) give an eval split. */
function mayHoldSplits(source: unknown): boolean {
  if (source !== null && typeof source === 'object' && !Array.isArray(source)) return true;
  const paths = typeof source === 'string' ? [source] : Array.isArray(source) ? source : [];
  return paths.some((p) => typeof p === 'string' && !/\.(jsonl|ndjson|parquet)(\.gz)?$/i.test(p));
}

/** `count` pairs (a fraction of them when < 1) drawn with the run's seed; the rest stay in order for training. */
export function holdOut<T>(pairs: readonly T[], size: number, seed: number): { kept: T[]; heldOut: T[] } {
  const count = size < 1 ? Math.round(pairs.length * size) : size;
  if (count < 1 || count >= pairs.length) {
    throw new TrainConfigError(
      'eval_split_size',
      `${size} leaves ${pairs.length - count} of ${pairs.length} pairs for training and ${count} for evaluation; both need at least one.`,
    );
  }
  const order = SeededRandom.forStream(seed, 0x65766c).shuffle(pairs.map((_, i) => i));
  const held = new Set(order.slice(0, count));
  return { kept: pairs.filter((_, i) => !held.has(i)), heldOut: pairs.filter((_, i) => held.has(i)) };
}

/** Reads and tokenises the pairs `config` names (see the file header). */
export async function loadTrainingPairs(
  config: TrainConfig,
  tokenizer: Tokenizer,
  options: { log?: (line: string) => void } = {},
): Promise<TrainingPairs> {
  const log = options.log ?? ((line: string) => console.log(line));
  if (config.dataset === null && config.dataset_mixer === null) throw new TrainConfigError('dataset', 'is required (or dataset_mixer).');
  const [trainSplit, evalSplit] = config.dataset_splits;
  const sources: { source: DataFilesSource; fraction: number }[] = config.dataset_mixer
    ? Object.entries(config.dataset_mixer).map(([source, fraction]) => ({ source, fraction }))
    : [{ source: config.dataset as DataFilesSource, fraction: 1 }];

  const unpaired = lossRequirements(config.loss_type, config.loss).examples === 'unpaired';
  const lossName = JSON.stringify(config.loss_type);
  type Item = TokenizedPair | TokenizedExample;
  // The usable rows of `dataset` (its first `fraction` of them), tokenised as the loss takes them.
  const tokenized = (dataset: PreferenceDataset, what: string, fraction = 1): Item[] => {
    const started = performance.now();
    const seconds = () => ((performance.now() - started) / 1000).toFixed(1);
    const kindsOf = (report: { toJSON(): Record<string, { count: number }> }) =>
      Object.entries(report.toJSON()).map(([k, v]) => `${k} ${v.count}`);
    if (unpaired) {
      const given = dataset.examples.length > 0 || dataset.pairs.length === 0;
      if (!given)
        log(
          `${what}: ${dataset.pairs.length} pairs unpaired into ${2 * dataset.pairs.length} examples for ${lossName} (as TRL's KTOTrainer)`,
        );
      const examples = given ? dataset.examples : unpairPairs(dataset.pairs);
      const t = tokenizeUnpairedExamples(examples.slice(0, Math.ceil(examples.length * fraction)), tokenizer, config.data, {
        onWarning: (m) => log(`warning: ${m}`),
      });
      const good = t.examples.filter((e) => e.label).length;
      const kinds = kindsOf(t.report);
      log(
        `${what}: ${t.examples.length} examples (desirable ${good}, undesirable ${t.examples.length - good}), tokenised in ${seconds()} s${kinds.length ? ` (tokenisation: ${kinds.join(', ')})` : ''}`,
      );
      return t.examples;
    }
    if (dataset.examples.length > 0) {
      throw new TrainConfigError(
        'loss_type',
        `${dataset.files.join(', ')} holds unpaired examples (prompt, completion, label), but loss_type ${lossName} takes preference pairs: use kto or apo_zero_unpaired, or paired data.`,
      );
    }
    const t = tokenizePreferencePairs(dataset.pairs.slice(0, Math.ceil(dataset.pairs.length * fraction)), tokenizer, config.data, {
      onWarning: (m) => log(`warning: ${m}`),
    });
    const kinds = kindsOf(t.report);
    log(`${what}: ${t.pairs.length} pairs, tokenised in ${seconds()} s${kinds.length ? ` (tokenisation: ${kinds.join(', ')})` : ''}`);
    return t.pairs;
  };
  let train: Item[] = [];
  let evalPairs: Item[] = [];
  for (const { source, fraction } of sources) {
    const dataset = await readTrainSplit(config, source, trainSplit, log);
    const odd = Object.entries(dataset.report.toJSON()).map(([k, v]) => `${k} ${v.count}`);
    const rows = dataset.examples.length > 0 ? `${dataset.examples.length} examples` : `${dataset.pairs.length} pairs`;
    log(`read ${dataset.files.join(', ')}: format ${dataset.format}, ${rows}${odd.length ? `; odd rows: ${odd.join(', ')}` : ''}`);
    // The mixer's fraction subsamples training data only; evaluation always uses the whole split.
    train.push(...tokenized(dataset, 'train', fraction));
    if (config.eval_dataset === null && mayHoldSplits(source)) {
      try {
        evalPairs.push(...tokenized(await readSplit(config, source, evalSplit, log), `eval (${evalSplit})`));
      } catch (err) {
        if (!(err instanceof SplitChoiceError)) throw err;
        log(`no '${evalSplit}' split in ${JSON.stringify(source)}: no evaluation data from it`);
      }
    }
  }
  if (config.eval_dataset !== null) {
    evalPairs = tokenized(await readTrainSplit(config, config.eval_dataset as DataFilesSource, evalSplit, log), 'eval');
  } else if (evalPairs.length === 0 && config.eval_split_size !== null) {
    const split = holdOut(train, config.eval_split_size, config.seed);
    train = split.kept;
    evalPairs = split.heldOut;
    log(
      `eval_split_size ${config.eval_split_size}: ${evalPairs.length} ${unpaired ? 'examples' : 'pairs'} held out for evaluation, ${train.length} for training`,
    );
  }
  if (!unpaired) return { train: train as TokenizedPair[], eval: evalPairs as TokenizedPair[] };
  const examples = train as TokenizedExample[];
  const good = examples.filter((e) => e.label).length;
  const advice = unpairedWeightAdvice(good, examples.length - good, config.loss);
  if (advice !== null) log(`warning: ${advice}`);
  // KL rows from chunks of each batch size, as TRL maps its train and eval datasets.
  const maxLength = config.data.max_length;
  return {
    train: unpairedRows(examples, config.per_device_train_batch_size, maxLength),
    eval: unpairedRows(evalPairs as TokenizedExample[], config.per_device_eval_batch_size, maxLength),
  };
}
