// AdamW (Loshchilov & Hutter, decoupled weight decay) with PyTorch's torch.optim.AdamW update,
// step for step (non-amsgrad, maximize=False):
//   p ← p·(1 − lr·λ);  m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²
//   p ← p − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε)
// Moments are kept in float32 whatever the parameter dtype. A bf16/f16 parameter also gets a
// float32 master copy that the update is applied to and that is rounded into the parameter after
// each step: without it an update smaller than half a bf16 ulp (≈ 0.4% of the weight) rounds away
// every step, and at preference-tuning learning rates (1e-7–1e-6) almost no weight ever moves.
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';

export interface AdamWOptions {
  /** Learning rate (the scheduler overrides it each step through `lr`). */
  lr: number;
  betas?: [number, number];
  eps?: number;
  /** Decoupled weight decay λ; per group. Default 0.01 as in torch.optim.AdamW. */
  weightDecay?: number;
  /**
   * Largest number of elements updated at once (default 2^21, 8 MiB of float32). A larger
   * parameter is updated in consecutive slices, so the update's float32 temporaries (the
   * denominator, a cast gradient) stay this small instead of parameter-sized: 282 MiB for a
   * 128,256-token embedding of width 576. The update is elementwise, so slicing changes no value.
   */
  chunkElements?: number;
}

export interface ParamGroup {
  params: Tensor[];
  /** Overrides the optimiser's weight decay for this group (e.g. 0 for biases and norms). */
  weightDecay?: number;
}

interface ParamState {
  step: number;
  expAvg: Tensor;
  expAvgSq: Tensor;
  /** float32 master copy of a bf16/f16 parameter: updates accumulate here and are rounded into the parameter. */
  master: Tensor | null;
}

/** The serialisable form of AdamW's state: moments by parameter index, plus step counts. */
export interface AdamWStateDict {
  steps: number[];
  tensors: Map<string, Tensor>;
}

export class AdamW {
  lr: number;
  readonly betas: [number, number];
  readonly eps: number;
  readonly groups: { params: Tensor[]; weightDecay: number }[];
  readonly chunkElements: number;
  #state = new Map<Tensor, ParamState>();

  constructor(params: Tensor[] | ParamGroup[], options: AdamWOptions) {
    const { lr, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0.01, chunkElements = 2 ** 21 } = options;
    check(Number.isFinite(lr) && lr >= 0, `lr must be a finite number ≥ 0, got ${lr}`);
    check(
      betas.every((b) => b >= 0 && b < 1),
      `betas must lie in [0, 1), got [${betas.join(', ')}]`,
    );
    check(eps > 0, `eps must be > 0, got ${eps}`);
    check(weightDecay >= 0, `weightDecay must be ≥ 0, got ${weightDecay}`);
    check(Number.isInteger(chunkElements) && chunkElements >= 1, `chunkElements must be an integer ≥ 1, got ${chunkElements}`);
    this.lr = lr;
    this.chunkElements = chunkElements;
    this.betas = betas;
    this.eps = eps;
    const groups: ParamGroup[] =
      params.length > 0 && !(params[0] as ParamGroup).params ? [{ params: params as Tensor[] }] : (params as ParamGroup[]);
    this.groups = groups.map((g) => ({ params: g.params, weightDecay: g.weightDecay ?? weightDecay }));
    const seen = new Set<Tensor>();
    for (const g of this.groups) {
      for (const p of g.params) {
        check(!seen.has(p), 'a parameter appears in more than one group');
        check(p.requiresGrad, 'every parameter given to AdamW must require gradients');
        seen.add(p);
      }
    }
  }

  /** Applies one update to every parameter that has a gradient. */
  step(): void {
    torch.noGrad(() => {
      for (const group of this.groups) {
        for (const p of group.params) {
          // The tidy releases the handle that p.grad returns (zeroGrad drops the gradient itself).
          torch.tidy(() => {
            const grad = p.grad;
            if (grad === null) return;
            let st = this.#state.get(p);
            if (!st) {
              st = {
                step: 0,
                expAvg: torch.keep(torch.zerosLike(p, { dtype: 'float32' })),
                expAvgSq: torch.keep(torch.zerosLike(p, { dtype: 'float32' })),
                master: p.dtype === 'float32' ? null : torch.keep(p.to({ dtype: 'float32', copy: true })),
              };
              this.#state.set(p, st);
            }
            st.step += 1;
            const n = p.numel;
            const tensors = [p, grad, st.expAvg, st.expAvgSq, ...(st.master ? [st.master] : [])];
            if (n <= this.chunkElements || !tensors.every((t) => t.isContiguous)) {
              this.#update(p, grad, st, group.weightDecay);
              return;
            }
            const state = st;
            for (let start = 0; start < n; start += this.chunkElements) {
              const len = Math.min(this.chunkElements, n - start);
              // Each slice's temporaries are released before the next slice is computed.
              torch.tidy(() => {
                const slice = (t: Tensor) => t.view([-1]).narrow(0, start, len);
                const master = state.master ? slice(state.master) : null;
                const sliced = { step: state.step, expAvg: slice(state.expAvg), expAvgSq: slice(state.expAvgSq), master };
                this.#update(slice(p), slice(grad), sliced, group.weightDecay);
              });
            }
          });
        }
      }
    });
  }

  /** torch.optim.AdamW's update of one parameter (or one slice of it, with its state's matching slices). */
  #update(p: Tensor, grad: Tensor, st: ParamState, weightDecay: number): void {
    const [beta1, beta2] = this.betas;
    const lr = this.lr;
    const g = grad.dtype === 'float32' ? grad : grad.to('float32');
    st.expAvg.lerp_(g, 1 - beta1);
    st.expAvgSq.mul_(beta2).addcmul_(g, g, 1 - beta2);
    const bias1 = 1 - beta1 ** st.step;
    const bias2Sqrt = Math.sqrt(1 - beta2 ** st.step);
    // One temporary, as torch.optim.AdamW: the division and ε are applied in place.
    const denom = st.expAvgSq.sqrt().div_(bias2Sqrt).add_(this.eps);
    const target = st.master ?? p;
    if (weightDecay !== 0) target.mul_(1 - lr * weightDecay);
    target.addcdiv_(st.expAvg, denom, -lr / bias1);
    if (st.master) p.copy_(st.master);
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const group of this.groups) {
      for (const p of group.params) {
        const g = p.grad;
        if (g) {
          g.dispose();
          p.grad = null;
        }
      }
    }
  }

  /** Every parameter, in group order: the order the state dict's indices refer to. */
  parameters(): Tensor[] {
    return this.groups.flatMap((g) => g.params);
  }

  /**
   * Moments as `exp_avg.<i>` / `exp_avg_sq.<i>` tensors (i = index in parameters()), the float32
   * master weights of low-precision parameters as `master.<i>`, plus step counts.
   */
  stateDict(): AdamWStateDict {
    const tensors = new Map<string, Tensor>();
    const steps = this.parameters().map((p, i) => {
      const st = this.#state.get(p);
      if (!st) return 0;
      tensors.set(`exp_avg.${i}`, st.expAvg);
      tensors.set(`exp_avg_sq.${i}`, st.expAvgSq);
      if (st.master) tensors.set(`master.${i}`, st.master);
      return st.step;
    });
    return { steps, tensors };
  }

  /** Restores a state dict from stateDict() of an optimiser over the same parameters (copies the tensors). */
  loadStateDict(dict: AdamWStateDict): void {
    const params = this.parameters();
    check(dict.steps.length === params.length, `the state has ${dict.steps.length} parameters, this optimiser ${params.length}`);
    this.#release();
    params.forEach((p, i) => {
      const step = dict.steps[i] as number;
      if (step === 0) return;
      const expAvg = dict.tensors.get(`exp_avg.${i}`);
      const expAvgSq = dict.tensors.get(`exp_avg_sq.${i}`);
      check(expAvg !== undefined && expAvgSq !== undefined, `the state lacks the moments of parameter ${i}`);
      check(
        expAvg.shape.join() === p.shape.join() && expAvgSq.shape.join() === p.shape.join(),
        `the moments of parameter ${i} have shape [${expAvg.shape}], the parameter [${p.shape}]`,
      );
      const master = dict.tensors.get(`master.${i}`);
      check(p.dtype === 'float32' || master !== undefined, `the state lacks the float32 master weights of ${p.dtype} parameter ${i}`);
      this.#state.set(p, {
        step,
        expAvg: torch.keep(expAvg.to({ dtype: 'float32', copy: true })),
        expAvgSq: torch.keep(expAvgSq.to({ dtype: 'float32', copy: true })),
        master: p.dtype === 'float32' || master === undefined ? null : torch.keep(master.to({ dtype: 'float32', copy: true })),
      });
    });
  }

  /** Releases the moments. */
  dispose(): void {
    this.#release();
  }

  #release(): void {
    for (const st of this.#state.values()) {
      st.expAvg.dispose();
      st.expAvgSq.dispose();
      st.master?.dispose();
    }
    this.#state.clear();
  }
}

function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new RangeError(`AdamW: ${message}`);
}
