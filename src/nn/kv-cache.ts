// Keys and values of earlier positions, per layer, for incremental decoding. Stored before the
// grouped-query repeat ([B, Hkv, S, D]) and after RoPE. The cache owns its tensors: call
// dispose() when generation ends.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

export class KVCache {
  readonly #keys: (Tensor | undefined)[];
  readonly #values: (Tensor | undefined)[];

  constructor(numLayers: number) {
    this.#keys = new Array(numLayers).fill(undefined);
    this.#values = new Array(numLayers).fill(undefined);
  }

  /** Positions cached so far (P), read from layer 0. */
  get length(): number {
    return this.#keys[0]?.size(2) ?? 0;
  }

  /**
   * Appends this step's k and v [B, Hkv, T, D] to layer `layer` and returns the full [B, Hkv, P + T, D]
   * tensors. The cache takes ownership of `k` and `v` and of what it returns (all kept out of any
   * open tidy scope): do not dispose them.
   */
  update(layer: number, k: Tensor, v: Tensor): { k: Tensor; v: Tensor } {
    const pastK = this.#keys[layer];
    const pastV = this.#values[layer];
    const fullK = torch.keep(pastK === undefined ? k : torch.cat([pastK, k], 2));
    const fullV = torch.keep(pastV === undefined ? v : torch.cat([pastV, v], 2));
    pastK?.dispose();
    pastV?.dispose();
    this.#keys[layer] = fullK;
    this.#values[layer] = fullV;
    return { k: fullK, v: fullV };
  }

  dispose(): void {
    for (const t of [...this.#keys, ...this.#values]) t?.dispose();
    this.#keys.fill(undefined);
    this.#values.fill(undefined);
  }
}
