// Resuming: the checkpoint to continue (a folder, or the newest complete one in output_dir), a
// check that it was written by a run with this config, then its weights, optimiser moments,
// α-DPO statistics and RNG state copied into the live objects.

import { DATA_CONFIG_SCHEMA } from '../data/data-config.js';
import { loadSafetensorsDir } from '../io/safetensors.js';
import { AlphaDpoState } from '../losses/alpha-dpo-state.js';
import { CONFIG_SCHEMA as LOSS_CONFIG_SCHEMA } from '../losses/config.js';
import type { CausalLM } from '../models/causal-lm.js';
import type { AdamW } from '../optim/adamw.js';
import * as torch from '../tensor/torch.js';
import { CheckpointError, listCheckpoints, loadCheckpointWeights, readCheckpoint, type TrainerState } from './checkpoint.js';
import { TRAIN_CONFIG_SCHEMA, type TrainConfig } from './train-config.js';

/**
 * Keys that may change between a run and its resumption: they do not change what is trained (the
 * data itself is checked by the data cursor's fingerprint, so a moved dataset path is fine).
 */
export const CHANGEABLE_ON_RESUME: ReadonlySet<string> = new Set([
  'resume_from_checkpoint',
  'output_dir',
  'overwrite_output_dir',
  'run_name',
  'logging_steps',
  'logging_first_step',
  'eval_strategy',
  'evaluation_strategy',
  'eval_steps',
  'do_eval',
  'eval_on_start',
  'eval_dataset',
  'per_device_eval_batch_size',
  'save_strategy',
  'save_steps',
  'save_total_limit',
  'report_to',
  'gradient_checkpointing',
  'max_steps',
  'num_train_epochs',
  'dataset',
  'dataset_mixer',
  'ignored',
  // How the forward pass is laid out, not what it computes (equal within round-off).
  'prefix_sharing',
  'padding_free',
  'vocab_chunk_size',
  'attn_implementation',
]);

/** The config as stored in a checkpoint: plain JSON. */
export function storedConfig(config: TrainConfig): Record<string, unknown> {
  return JSON.parse(JSON.stringify(config)) as Record<string, unknown>;
}

const SCHEMAS: readonly Readonly<Record<string, object>>[] = [TRAIN_CONFIG_SCHEMA, LOSS_CONFIG_SCHEMA, DATA_CONFIG_SCHEMA];

/** JSON of the schema default of a flattened config key ('null' when it has none). */
function schemaDefault(key: string): string {
  for (const schema of SCHEMAS) {
    const entry = schema[key];
    if (entry && 'default' in entry) return JSON.stringify((entry as { default: unknown }).default ?? null);
  }
  return 'null';
}

function flatten(value: unknown, prefix: string, out: Map<string, string>): void {
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && (prefix === '' || prefix === 'loss' || prefix === 'data')) {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) flatten(v, k, out);
    return;
  }
  out.set(prefix, JSON.stringify(value ?? null));
}

/** Keys whose values differ between a checkpoint's config and this run's (those that change the training). */
export function configDifferences(saved: Record<string, unknown>, now: TrainConfig): { key: string; saved: string; now: string }[] {
  const a = new Map<string, string>();
  const b = new Map<string, string>();
  flatten(saved, '', a);
  flatten(storedConfig(now), '', b);
  const keys = new Set([...a.keys(), ...b.keys()]);
  const out: { key: string; saved: string; now: string }[] = [];
  for (const key of [...keys].sort()) {
    if (CHANGEABLE_ON_RESUME.has(key)) continue;
    // A key the checkpoint's version did not have yet ran with that version's behaviour, which is
    // the key's default: compare against it, so adding a key does not orphan older checkpoints.
    const x = a.get(key) ?? schemaDefault(key);
    const y = b.get(key) ?? 'null';
    if (x !== y) out.push({ key, saved: x, now: y });
  }
  return out;
}

/**
 * The checkpoint folder `resume` names: 'latest' is the newest complete one in `outputDir`; an
 * output folder holding checkpoints gives its newest; anything else is taken as a checkpoint
 * folder itself (reading it says if it is not one).
 */
export async function checkpointToResume(resume: string, outputDir: string | null): Promise<string> {
  const folder = resume === 'latest' ? outputDir : resume;
  if (folder === null) throw new CheckpointError("resume_from_checkpoint: 'latest' needs output_dir.");
  const found = (await listCheckpoints(folder)).at(-1);
  if (found) return found.path;
  if (resume !== 'latest') return resume;
  throw new CheckpointError(`no complete checkpoint in ${folder} to resume; start without --resume.`);
}

export interface Restored {
  dir: string;
  state: TrainerState;
  lossState: AlphaDpoState;
}

/** Loads the checkpoint into `policy` and `optimizer`, restores the RNG, and returns the trainer state. */
export async function restoreFromCheckpoint(config: TrainConfig, policy: CausalLM, optimizer: AdamW): Promise<Restored> {
  const dir = await checkpointToResume(config.resume_from_checkpoint as string, config.output_dir);
  const { state, optimizerTensors } = await readCheckpoint(dir);
  try {
    if (state.resolved_config) {
      const diff = configDifferences(state.resolved_config, config);
      if (diff.length > 0) {
        const lines = diff.map((d) => `  ${d.key}: checkpoint ${d.saved}, now ${d.now}`).join('\n');
        throw new CheckpointError(
          `${dir} was written by a run with another config; resuming it with this one would not continue that run:\n${lines}\n` +
            'Resume with the same settings, or start a new run in another output_dir.',
        );
      }
    }
    await loadCheckpointWeights(policy, dir, async (d) => (await loadSafetensorsDir(d)).tensors);
    optimizer.loadStateDict({ steps: state.optimizer_steps, tensors: optimizerTensors });
  } finally {
    for (const t of optimizerTensors.values()) t.dispose();
  }
  torch.setRngState(new Uint8Array(Buffer.from(state.rng_state, 'base64')));
  return { dir, state, lossState: state.loss_state ? AlphaDpoState.fromJSON(state.loss_state) : new AlphaDpoState() };
}
