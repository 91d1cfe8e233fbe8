// Checkpoints: a Hugging Face model folder plus everything a resumed run needs to continue
// exactly (optimiser moments, scheduler position, RNG state, data cursor, α-DPO statistics).
// Written atomically: everything goes into a temporary sibling folder, trainer_state.json last,
// and only the complete folder is renamed to checkpoint-<step>. A crash leaves at worst a
// `.tmp-` folder, which is never mistaken for a checkpoint and is cleaned up by the next save.

import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AlphaDpoError } from '../errors.js';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';
import { loadSafetensors, saveSafetensors } from '../io/safetensors.js';
import type { CausalLM } from '../models/causal-lm.js';
import { loadAdapterWeights, saveAdapter } from '../models/peft-adapter-files.js';
import type { AdamW } from '../optim/adamw.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { SavableTokenizer } from '../tokenizers/tokenizer.js';

export const TRAINER_STATE_FILE = 'trainer_state.json';
const OPTIMIZER_FILE = 'optimizer.safetensors';

/** What trainer_state.json holds. */
export interface TrainerState {
  version: 1;
  /** Optimiser steps done. */
  global_step: number;
  /** Fractional epochs done. */
  epoch: number;
  /** Micro-batches consumed (for tokens/s and epoch accounting). */
  micro_batches: number;
  /** The data stream's cursor (PreferenceBatches.cursor). */
  data_cursor: unknown;
  /** AlphaDpoState.toJSON(), or null. */
  loss_state: unknown;
  /** libtorch's CPU generator state, base64. */
  rng_state: string;
  /** AdamW's per-parameter step counts (its moments are in optimizer.safetensors). */
  optimizer_steps: number[];
  /** Every logged record so far (as metrics.jsonl). */
  log_history: Record<string, number | string>[];
  /** The config as given, for reference. */
  config: Record<string, unknown>;
  /** The resolved config (every key with its default), checked against the config of a run that resumes this checkpoint. */
  resolved_config?: Record<string, unknown>;
}

function isCount(v: unknown): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0;
}

/** The fields a resumed run relies on, checked so a damaged or hand-edited file fails here and not as a wrong run. */
function checkTrainerState(dir: string, state: unknown): asserts state is TrainerState {
  const bad = (field: string, expected: string) =>
    new CheckpointError(`${dir}/${TRAINER_STATE_FILE}: ${field} must be ${expected}; the checkpoint is damaged, resume from another one.`);
  if (state === null || typeof state !== 'object' || Array.isArray(state)) throw bad('the file', 'a JSON object');
  const s = state as Record<string, unknown>;
  if (s.version !== 1) throw new CheckpointError(`${dir}: unknown ${TRAINER_STATE_FILE} version ${String(s.version)}.`);
  for (const field of ['global_step', 'micro_batches'] as const) if (!isCount(s[field])) throw bad(field, 'a whole number ≥ 0');
  if (typeof s.epoch !== 'number' || !Number.isFinite(s.epoch) || s.epoch < 0) throw bad('epoch', 'a number ≥ 0');
  if (typeof s.rng_state !== 'string' || s.rng_state === '') throw bad('rng_state', 'a base64 string');
  if (!Array.isArray(s.optimizer_steps) || !s.optimizer_steps.every(isCount)) throw bad('optimizer_steps', 'a list of whole numbers');
  if (!Array.isArray(s.log_history)) throw bad('log_history', 'a list');
  if (s.data_cursor === null || typeof s.data_cursor !== 'object') throw bad('data_cursor', 'an object');
  if (s.config === null || typeof s.config !== 'object') throw bad('config', 'an object');
}

export interface CheckpointContents {
  model: CausalLM;
  tokenizer?: SavableTokenizer | undefined;
  optimizer: AdamW;
  state: TrainerState;
  /** base_model_name_or_path of a LoRA policy's adapter_config.json. */
  baseModel?: string | null;
}

/** Writes output_dir/checkpoint-<step> atomically and deletes the oldest beyond `totalLimit`. */
export async function saveCheckpoint(outputDir: string, contents: CheckpointContents, totalLimit: number | null): Promise<string> {
  const name = `checkpoint-${contents.state.global_step}`;
  const final = join(outputDir, name);
  const tmp = join(outputDir, `.tmp-${name}-${process.pid}`);
  await mkdir(outputDir, { recursive: true });
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp);
  try {
    // A LoRA policy's checkpoint is its adapter (PEFT's format): the base weights never change.
    const { adapter } = contents.model;
    if (adapter) await saveAdapter(adapter, tmp, { tokenizer: contents.tokenizer, baseModel: contents.baseModel ?? null });
    else await contents.model.savePretrained(tmp, { tokenizer: contents.tokenizer });
    const dict = contents.optimizer.stateDict();
    await saveSafetensors(join(tmp, OPTIMIZER_FILE), dict.tensors, { metadata: { format: 'alpha-dpo-adamw' } });
    const state = { ...contents.state, optimizer_steps: dict.steps };
    const json = new TextEncoder().encode(`${JSON.stringify(state, null, 1)}\n`);
    await writeFileAtomically(join(tmp, TRAINER_STATE_FILE), (fh) => writeFully(fh, json, 0));
    await rm(final, { recursive: true, force: true });
    await rename(tmp, final);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  if (totalLimit !== null) {
    const all = await listCheckpoints(outputDir);
    for (const old of all.slice(0, Math.max(0, all.length - totalLimit))) await rm(old.path, { recursive: true, force: true });
  }
  return final;
}

/** Complete checkpoints in `outputDir` (those with trainer_state.json), oldest first. */
export async function listCheckpoints(outputDir: string): Promise<{ step: number; path: string }[]> {
  let names: string[];
  try {
    names = await readdir(outputDir);
  } catch {
    return [];
  }
  const out: { step: number; path: string }[] = [];
  for (const name of names) {
    const m = /^checkpoint-(\d+)$/.exec(name);
    if (!m) continue;
    const path = join(outputDir, name);
    try {
      await stat(join(path, TRAINER_STATE_FILE));
      out.push({ step: Number(m[1]), path });
    } catch {
      // incomplete: not a checkpoint
    }
  }
  return out.sort((a, b) => a.step - b.step);
}

export class CheckpointError extends AlphaDpoError {}

/** Reads a checkpoint's trainer state and optimiser moments (the caller disposes the tensors). */
export async function readCheckpoint(dir: string): Promise<{ state: TrainerState; optimizerTensors: Map<string, Tensor> }> {
  const state = await readTrainerState(dir);
  const { tensors } = await loadSafetensors(join(dir, OPTIMIZER_FILE));
  return { state, optimizerTensors: tensors };
}

/** A checkpoint's trainer_state.json, validated (no weights or optimiser moments are read). */
export async function readTrainerState(dir: string): Promise<TrainerState> {
  let state: unknown;
  try {
    state = JSON.parse(await readFile(join(dir, TRAINER_STATE_FILE), 'utf8'));
  } catch (e) {
    throw new CheckpointError(
      `${dir} is not a complete checkpoint (${TRAINER_STATE_FILE}: ${(e as NodeJS.ErrnoException).code ?? String(e)}); choose a checkpoint-<step> folder that has it.`,
    );
  }
  checkTrainerState(dir, state);
  return state;
}

/** Copies a checkpoint's weights (Hugging Face layout) into `model`'s parameters, or its adapter's when it has one. */
export async function loadCheckpointWeights(
  model: CausalLM,
  dir: string,
  load: (dir: string) => Promise<Map<string, Tensor>>,
): Promise<void> {
  if (model.adapter) return loadAdapterWeights(model.adapter, dir);
  const tensors = await load(dir);
  try {
    torch.noGrad(() => {
      for (const [name, p] of model.namedParameters()) {
        const saved = tensors.get(name);
        if (!saved) throw new CheckpointError(`${dir} lacks the weight ${name}.`);
        torch.tidy(() => {
          const value = model.layout.isTransposed(name) ? saved.transpose(0, 1) : saved;
          if (value.shape.join() !== p.shape.join()) {
            throw new CheckpointError(`${dir}: weight ${name} has shape [${value.shape}], the model [${p.shape}].`);
          }
          p.copy_(value);
        });
      }
    });
  } finally {
    for (const t of tensors.values()) t.dispose();
  }
}
