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
