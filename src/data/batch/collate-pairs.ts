// Pairs to one padded batch, as TRL's DPOTrainer.concatenated_inputs lays it out: the chosen
// sequences of all B pairs, then their rejected sequences, each prompt + completion, right-padded.

import { IGNORE_INDEX } from '../../losses/sequence-logps.js';
import type { Tensor } from '../../tensor/tensor.js';
import * as torch from '../../torch.js';
import type { TokenizedPair } from '../tokenize/tokenized-pair.js';

export interface CollateOptions {
  /** Token id at padded positions of input_ids (masked out by attention_mask and labels). */
  paddingValue: number;
  /** Round the length up to a multiple of this, or null. */
  padToMultipleOf: number | null;
}

/** A batch as flat row-major int64 arrays, before any tensor exists. */
export interface CollatedArrays {
  /** 2B: rows 0..B−1 are pairs' chosen sequences, B..2B−1 their rejected ones, in the same pair order. */
  rows: number;
  /** T: the longest row, rounded up to pad_to_multiple_of. */
  length: number;
  inputIds: BigInt64Array;
  /** 1 on prompt and completion tokens, 0 on padding. */
  attentionMask: BigInt64Array;
  /** The completion's ids where the loss applies, −100 on prompt and padding. */
  labels: BigInt64Array;
  /** 1 on completion tokens, 0 on prompt and padding. */
  completionMask: BigInt64Array;
}

export function collateArrays(pairs: readonly TokenizedPair[], options: CollateOptions): CollatedArrays {
  const sides = [...pairs.map((p) => p.chosen), ...pairs.map((p) => p.rejected)];
  let length = Math.max(1, ...sides.map((s) => s.prompt.length + s.completion.length));
  const multiple = options.padToMultipleOf;
  if (multiple !== null) length = Math.ceil(length / multiple) * multiple;
  const size = sides.length * length;
  const out: CollatedArrays = {
    rows: sides.length,
    length,
    inputIds: new BigInt64Array(size).fill(BigInt(options.paddingValue)),
    attentionMask: new BigInt64Array(size),
    labels: new BigInt64Array(size).fill(BigInt(IGNORE_INDEX)),
    completionMask: new BigInt64Array(size),
  };
  sides.forEach((side, row) => {
    let at = row * length;
    for (const id of side.prompt) {
      out.inputIds[at] = BigInt(id);
      out.attentionMask[at++] = 1n;
    }
    for (const id of side.completion) {
      const value = BigInt(id);
      out.inputIds[at] = value;
      out.labels[at] = value;
      out.attentionMask[at] = 1n;
      out.completionMask[at++] = 1n;
    }
  });
  return out;
}

export interface CollatedTensors {
  /** [2B, T] int64. */
  inputIds: Tensor;
  /** [2B, T] int64, 1 = attend, 0 = padding. */
  attentionMask: Tensor;
  /** [2B, T] int64, −100 on prompt and padding. */
  labels: Tensor;
  /** [2B, T] int64, 1 on completion tokens. */
  completionMask: Tensor;
}

/** The arrays as [2B, T] int64 tensors; the caller owns (and disposes) them. */
export function collatedTensors(arrays: CollatedArrays): CollatedTensors {
  const shape = [arrays.rows, arrays.length];
  return torch.tidy(() => ({
    inputIds: torch.tensor(arrays.inputIds).reshape(shape),
    attentionMask: torch.tensor(arrays.attentionMask).reshape(shape),
    labels: torch.tensor(arrays.labels).reshape(shape),
    completionMask: torch.tensor(arrays.completionMask).reshape(shape),
  }));
}
