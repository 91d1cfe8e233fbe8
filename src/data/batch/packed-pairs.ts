// A collated batch ([chosen; rejected] rows, right-padded) rearranged for a cheaper forward pass
// with the same per-token results:
// - prefix sharing: one sequence [shared prefix, chosen rest, rejected rest] per pair, the prefix
//   being the longest run of tokens both sides start with (the prompt, when it tokenised alike).
//   The rejected branch's positions restart at the prefix's end and it never sees the chosen
//   branch (Wang et al. 2024, "Accelerating Direct Preference Optimization with Prefix Sharing",
//   arXiv 2410.20305). A causal model's hidden state at a prefix position depends only on the
//   prefix, so it is the same for both sides: computing it once is exact.
// - padding-free: every sequence of the batch in one row, no padding, positions restarting per
//   sequence (TRL's padding_free).
// It also lists the completion tokens: which hidden state predicts each, its target id, and where
// it sits in the unshared [2B, T − 1] layout, so the LM head runs only there (batch-scores.ts).
import { IGNORE_INDEX } from '../../losses/sequence-logps.js';

export interface PackOptions {
  /** Pairs B: rows [0, B) of the batch are chosen sequences, [B, 2B) the rejected ones. */
  pairs: number;
  /** Share each pair's common prefix (see above). */
  prefixSharing: boolean;
  /** One row with every sequence (see above); false: one row per sequence, right-padded. */
  paddingFree: boolean;
  /** Token id at padded positions. */
  paddingValue: number;
}

/** Flat row-major arrays of a packed batch, before any tensor exists. */
export interface PackedPairs {
  /** R rows of T tokens: 1 when padding-free, else one per sequence (B with prefix sharing, 2B without). */
  rows: number;
  length: number;
  /** [R·T] the token ids. */
  inputIds: BigInt64Array;
  /** [R·T] positions restarting at 0 for each sequence and at the prefix's end for each branch; 0 on padding. */
  positionIds: BigInt64Array;
  /** [R·T] the sequence of each token within its row, −1 on padding (see TokenLayout). */
  sequenceIds: BigInt64Array;
  /** [R·T] 0 on a shared prefix, 1 on the chosen branch, 2 on the rejected branch. */
  branchIds: BigInt64Array;
  /** Padding-free: the token count of each sequence, in row order; null otherwise. */
  spans: number[] | null;
  /** [N] for each completion token: the flat index (row·T + column) of the hidden state that predicts it. */
  hiddenIndex: BigInt64Array;
  /** [N] the completion token ids (the targets). */
  targets: BigInt64Array;
  /** [N] the unshared row 0..2B−1 the token belongs to. */
  slot: BigInt64Array;
  /** [N] the token's flat index slot·(T₀ − 1) + t − 1 in the unshared, shifted [2B, T₀ − 1] layout (T₀: the collated length). */
  unsharedIndex: BigInt64Array;
}

/** One unpadded sequence of the collated batch: token ids and labels (IGNORE_INDEX off the completion). */
export interface CollatedRow {
  ids: ArrayLike<bigint>;
  labels: ArrayLike<bigint>;
}

/** The real tokens of row `r` of a right-padded [rows, T] batch (mask 1 on a prefix of the row). */
export function collatedRows(
  arrays: { inputIds: BigInt64Array; attentionMask: BigInt64Array; labels: BigInt64Array },
  rows: number,
  length: number,
): CollatedRow[] {
  return Array.from({ length: rows }, (_, r) => {
    const mask = arrays.attentionMask.subarray(r * length, (r + 1) * length);
    let real = 0;
    while (real < length && mask[real] !== 0n) real++;
    for (let t = real; t < length; t++) {
      if (mask[t] !== 0n) throw new RangeError(`row ${r} of the batch is not right-padded: packing needs each row's tokens first`);
    }
    return {
      ids: arrays.inputIds.subarray(r * length, r * length + real),
      labels: arrays.labels.subarray(r * length, r * length + real),
    };
  });
}

/** Length of the longest common prefix of a and b. */
function commonPrefix(a: ArrayLike<bigint>, b: ArrayLike<bigint>): number {
  const n = Math.min(a.length, b.length);
  let k = 0;
  while (k < n && a[k] === b[k]) k++;
  return k;
}

/** A sequence of the packed batch: its shared prefix length and the unshared rows it holds as branches. */
interface Unit {
  prefix: number;
  /** Branch b + 1 is unshared row slots[b]; tokens [prefix, length) of that row follow the prefix. */
  slots: number[];
  length: number;
}

/**
 * Rearranges the 2B `rows` (rows [0, B) chosen, [B, 2B) rejected; `length` their padded length T₀)
 * as `options` asks. Every completion token (label ≠ IGNORE_INDEX at column t ≥ 1) is listed
 * once, with the hidden state at its row's column t − 1 in the new layout.
 */
export function packPairs(rows: readonly CollatedRow[], length: number, options: PackOptions): PackedPairs {
  const { pairs } = options;
  if (rows.length !== 2 * pairs) throw new RangeError(`expected ${2 * pairs} rows ([chosen; rejected]), got ${rows.length}`);
  const units: Unit[] = [];
  if (options.prefixSharing) {
    for (let p = 0; p < pairs; p++) {
      const chosen = rows[p] as CollatedRow;
      const rejected = rows[pairs + p] as CollatedRow;
      const prefix = commonPrefix(chosen.ids, rejected.ids);
      units.push({ prefix, slots: [p, pairs + p], length: chosen.ids.length + rejected.ids.length - prefix });
    }
  } else {
    rows.forEach((row, slot) => {
      units.push({ prefix: 0, slots: [slot], length: row.ids.length });
    });
  }
  const packedRows = options.paddingFree ? 1 : units.length;
  const packedLength = options.paddingFree ? units.reduce((a, u) => a + u.length, 0) : Math.max(1, ...units.map((u) => u.length));
  const size = packedRows * packedLength;
  const out: PackedPairs = {
    rows: packedRows,
    length: packedLength,
    inputIds: new BigInt64Array(size).fill(BigInt(options.paddingValue)),
    positionIds: new BigInt64Array(size),
    sequenceIds: new BigInt64Array(size).fill(-1n),
    branchIds: new BigInt64Array(size),
    spans: options.paddingFree ? units.map((u) => u.length) : null,
    hiddenIndex: new BigInt64Array(0),
    targets: new BigInt64Array(0),
    slot: new BigInt64Array(0),
    unsharedIndex: new BigInt64Array(0),
  };
  const hiddenIndex: bigint[] = [];
  const targets: bigint[] = [];
  const slots: bigint[] = [];
  const unshared: bigint[] = [];
  let at = 0;
  units.forEach((unit, u) => {
    const start = options.paddingFree ? at : u * packedLength;
    const sequence = options.paddingFree ? BigInt(u) : 0n;
    const first = rows[unit.slots[0] as number] as CollatedRow;
    for (let t = 0; t < unit.prefix; t++) {
      out.inputIds[start + t] = first.ids[t] as bigint;
      out.positionIds[start + t] = BigInt(t);
      out.sequenceIds[start + t] = sequence;
    }
    let next = start + unit.prefix;
    unit.slots.forEach((slot, b) => {
      const row = rows[slot] as CollatedRow;
      const branchStart = next;
      for (let t = unit.prefix; t < row.ids.length; t++) {
        out.inputIds[next] = row.ids[t] as bigint;
        out.positionIds[next] = BigInt(t);
        out.sequenceIds[next] = sequence;
        out.branchIds[next++] = unit.slots.length > 1 ? BigInt(b + 1) : 0n;
      }
      // Column t − 1 of this row lives in the prefix or in this branch.
      const hiddenAt = (column: number) => (column < unit.prefix ? start + column : branchStart + column - unit.prefix);
      for (let t = 1; t < row.labels.length; t++) {
        const label = row.labels[t] as bigint;
        if (label === BigInt(IGNORE_INDEX)) continue;
        hiddenIndex.push(BigInt(hiddenAt(t - 1)));
        targets.push(label);
        slots.push(BigInt(slot));
        unshared.push(BigInt(slot * (length - 1) + t - 1));
      }
    });
    at = next;
  });
  out.hiddenIndex = BigInt64Array.from(hiddenIndex);
  out.targets = BigInt64Array.from(targets);
  out.slot = BigInt64Array.from(slots);
  out.unsharedIndex = BigInt64Array.from(unshared);
  return out;
}
