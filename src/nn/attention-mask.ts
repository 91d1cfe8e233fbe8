// Which keys each query may not see: the causal rule, padding and an optional sliding window,
// as one bool tensor shared by every layer of a forward pass. Positions here are indices in the
// (cached + new) sequence, padding included, as transformers' cache_position.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

export interface AttentionMaskOptions {
  /** New tokens in this forward pass (T). */
  queryLength: number;
  /** Tokens already in the KV cache (P); keys span P + T positions. */
  pastLength: number;
  /** [B, P + T], 1 (or true) for a real token, 0 for padding; undefined when nothing is padded. */
  attentionMask?: Tensor | undefined;
  /**
   * Each query sees at most this many keys ending at itself: key j is visible from query i when
   * i − j < window (transformers' sliding_window_overlay). null for full causal attention.
   */
  slidingWindow?: number | null | undefined;
}

/**
 * bool [B or 1, 1, T, P + T], true where query i must not attend to key j: j > i (the future),
 * key j is padding, or j is outside the sliding window.
 */
export function blockedAttention(options: AttentionMaskOptions): Tensor {
  const { queryLength, pastLength, attentionMask, slidingWindow } = options;
  const keyLength = pastLength + queryLength;
  if (attentionMask !== undefined && (attentionMask.ndim !== 2 || attentionMask.size(1) !== keyLength)) {
    throw new RangeError(
      `attentionMask must be [batch, ${keyLength}] (cached ${pastLength} + new ${queryLength} tokens), got [${attentionMask.shape.join(', ')}]`,
    );
  }
  return torch.tidy(() => {
    const queryPos = torch.arange(pastLength, keyLength).view([queryLength, 1]);
    const keyPos = torch.arange(0, keyLength).view([1, keyLength]);
    let blocked = keyPos.gt(queryPos); // [T, S]
    if (slidingWindow !== null && slidingWindow !== undefined) blocked = blocked.logicalOr(queryPos.sub(keyPos).ge(slidingWindow));
    let out = blocked.view([1, 1, queryLength, keyLength]);
    if (attentionMask !== undefined) {
      const padding = attentionMask.eq(0).view([attentionMask.size(0), 1, 1, keyLength]);
      out = out.logicalOr(padding);
    }
    return out;
  });
}

/** Default position ids when none are given: P, P + 1, …, P + T − 1 for every row (transformers' forward). */
export function defaultPositionIds(batch: number, queryLength: number, pastLength: number): Tensor {
  return torch.tidy(() =>
    torch
      .arange(pastLength, pastLength + queryLength)
      .view([1, queryLength])
      .expand([batch, queryLength]),
  );
}

/**
 * Position ids from a left-padded mask [B, S]: each row counts its real tokens from 0, padding
 * gets 1 (transformers' generate: cumsum(mask) − 1, masked_fill(mask == 0, 1)). The last T columns.
 */
export function positionIdsFromMask(attentionMask: Tensor, queryLength: number): Tensor {
  return torch.tidy(() => {
    const mask = attentionMask.to('int64');
    const positions = mask.cumsum(1).sub(1).maskedFill(mask.eq(0), 1);
    const keyLength = mask.size(1);
    return positions.narrow(1, keyLength - queryLength, queryLength);
  });
}

/**
 * Several sequences in one row, or sequences that share a prefix (prefix sharing, padding-free
 * packing): which tokens belong together, as per-token ids. With a layout, key j is visible from
 * query i when j ≤ i, both have the same sequence id, key j is in the shared part (branch 0) or in
 * query i's own branch, and (with a sliding window) position[i] − position[j] < window. The
 * positions restart for each sequence, and for each branch at the end of the shared part, so
 * every token sees exactly the keys and positions it would see in its own unpadded row.
 */
export interface TokenLayout {
  /** int64 [B, T]: the sequence each token belongs to within its row; −1 for padding (which sees only padding). */
  sequenceIds: Tensor;
  /** int64 [B, T]: 0 for a sequence's shared prefix (seen by all its branches), b ≥ 1 for branch b (seen only by branch b). */
  branchIds: Tensor;
  /**
   * Optional, for B = 1: the row cut into consecutive spans of these lengths (summing to T), each
   * holding whole sequences. Attention is then computed span by span, Σ L² work instead of T².
   */
  spans?: readonly number[] | undefined;
}

/** The blocked-attention mask of one layer: one tensor, or one per span of a packed row (see TokenLayout.spans). */
export type AttentionBlocks = Tensor | { spans: { start: number; length: number; blocked: Tensor }[] };

/** bool [B, 1, T, T], true where query i may not see key j under `layout` (see TokenLayout). */
function layoutMask(sequenceIds: Tensor, branchIds: Tensor, positions: Tensor, slidingWindow: number | null | undefined): Tensor {
  return torch.tidy(() => {
    const [batch, time] = sequenceIds.shape as [number, number];
    const index = torch.arange(0, time);
    let blocked = index
      .view([1, time])
      .gt(index.view([time, 1]))
      .view([1, time, time]); // key after query
    blocked = blocked.logicalOr(sequenceIds.view([batch, time, 1]).ne(sequenceIds.view([batch, 1, time])));
    const keyBranch = branchIds.view([batch, 1, time]);
    blocked = blocked.logicalOr(keyBranch.ne(0).logicalAnd(keyBranch.ne(branchIds.view([batch, time, 1]))));
    if (slidingWindow !== null && slidingWindow !== undefined) {
      blocked = blocked.logicalOr(
        positions
          .view([batch, time, 1])
          .sub(positions.view([batch, 1, time]))
          .ge(slidingWindow),
      );
    }
    return blocked.view([batch, 1, time, time]);
  });
}

/** The mask of a forward pass over `layout` with `positions` [B, T] (no KV cache). */
export function layoutBlockedAttention(layout: TokenLayout, positions: Tensor, slidingWindow: number | null | undefined): AttentionBlocks {
  const [batch, time] = layout.sequenceIds.shape as [number, number];
  if (layout.branchIds.ndim !== 2 || layout.branchIds.size(0) !== batch || layout.branchIds.size(1) !== time) {
    throw new RangeError(`layout.branchIds must be [${batch}, ${time}] like sequenceIds, got [${layout.branchIds.shape.join(', ')}]`);
  }
  if (layout.spans === undefined) return layoutMask(layout.sequenceIds, layout.branchIds, positions, slidingWindow);
  const total = layout.spans.reduce((a, b) => a + b, 0);
  if (batch !== 1 || total !== time) {
    throw new RangeError(`layout.spans must cut one row of ${time} tokens (B = 1), got B = ${batch} and spans summing to ${total}`);
  }
  return torch.tidy(() => {
    const spans: { start: number; length: number; blocked: Tensor }[] = [];
    let start = 0;
    for (const length of layout.spans as readonly number[]) {
      const part = (t: Tensor) => t.narrow(1, start, length);
      spans.push({ start, length, blocked: layoutMask(part(layout.sequenceIds), part(layout.branchIds), part(positions), slidingWindow) });
      start += length;
    }
    return { spans };
  });
}
