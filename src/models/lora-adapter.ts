// A LoRA adapter on a causal LM, as PEFT's LoraModel (peft/tuners/lora/model.py, PEFT 0.21):
// a LoraBranch on every Linear the target names pick, the base weights frozen, optional
// modules_to_save trained in full. Switching the adapter off gives the base model back exactly,
// which is how a DPO-family loss gets its reference without a second copy of the weights
// (TRL: ref_model None + a PEFT config runs the reference under model.disable_adapter()).
// Parameter names are PEFT's without the `base_model.model.` prefix of its files:
// `<module path>.lora_A.weight`, `<module path>.lora_B.weight`, and each module_to_save's own keys.
import { Linear } from '../nn/linear.js';
import { type AdapterSwitch, LoraBranch } from '../nn/lora-branch.js';
import type { Tensor } from '../tensor/tensor.js';
import * as torch from '../tensor/torch.js';
import type { CausalLM } from './causal-lm.js';
import { AdapterError, checkLoraSettings, type LoraSettings, loraScaling } from './lora-config.js';

/** PEFT's rule for a list of names: the module name itself, or a dotted suffix of it (tuners_utils.py check_target_module_exists). */
function matchesName(moduleName: string, names: readonly string[]): boolean {
  return names.some((n) => moduleName === n || moduleName.endsWith(`.${n}`));
}

/** Whether `moduleName` is a target: 'all-linear' (every Linear; the LM head is no Linear here), one regex over the whole name, or a list of names. */
function isTarget(moduleName: string, targets: readonly string[] | string): boolean {
  if (targets === 'all-linear') return true;
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(moduleName);
  return matchesName(moduleName, targets);
}

/** A module kept trainable in full (modules_to_save): its parameter, and a copy of the base value for when the adapter is off. */
interface SavedModuleParam {
  name: string;
  param: Tensor;
  base: Tensor;
}

export class LoraAdapter {
  readonly settings: LoraSettings;
  readonly model: CausalLM;
  /** The adapted Linear layers' module names, in model order. */
  readonly targets: readonly string[];
  readonly #branches = new Map<string, LoraBranch>();
  readonly #saved: SavedModuleParam[] = [];
  readonly #switch: AdapterSwitch = { enabled: true };

  /**
   * Adds fresh branches (A Kaiming-uniform, B zero: the model's outputs are unchanged) to `model`
   * and freezes its other weights. Draws A from libtorch's default generator (torch.manualSeed).
   */
  static attach(model: CausalLM, settings: LoraSettings, where = 'LoRA settings'): LoraAdapter {
    checkLoraSettings(settings, where);
    if (model.adapter !== null) throw new AdapterError(`${where}: the model already has a LoRA adapter; merge or dispose it first.`);
    return new LoraAdapter(model, settings, where);
  }

  private constructor(model: CausalLM, settings: LoraSettings, where: string) {
    this.settings = settings;
    this.model = model;
    const linears = [...model.modules()].filter((m): m is Linear => m instanceof Linear);
    this.#checkNoOtherTargets(linears, where);
    const chosen = linears.filter((m) => isTarget(m.path, settings.target_modules));
    if (chosen.length === 0) {
      const names = [...new Set(linears.map((m) => m.path.split('.').at(-1)))];
      throw new AdapterError(
        `${where}: target_modules ${JSON.stringify(settings.target_modules)} matches none of the model's linear layers. ` +
          `Its linear layers are named ${names.join(', ')} (e.g. ${linears[0]?.path ?? 'none'}); use those names or 'all-linear'.`,
      );
    }
    const saveNames = this.#modulesToSaveParams(where);
    const branchDtype = model.dtype === 'float64' ? 'float64' : 'float32';
    const scaling = loraScaling(settings);
    try {
      for (const layer of chosen) {
        const branch = new LoraBranch(layer, {
          r: settings.r,
          scaling,
          dropout: settings.lora_dropout,
          switch: this.#switch,
          dtype: branchDtype,
        });
        this.#branches.set(layer.path, branch);
        layer.adapter = branch;
      }
      for (const [name, t] of model.namedParameters()) t.requiresGrad_(saveNames.has(name));
      for (const name of saveNames) {
        const param = model.store.get(name) as Tensor;
        this.#saved.push({ name, param, base: torch.keep(torch.noGrad(() => param.detach().clone())) });
      }
    } catch (e) {
      this.#detach();
      throw e;
    }
    this.targets = chosen.map((m) => m.path);
    model.adapter = this;
  }

  /** A target name that picks a module which is not a Linear (an embedding, a norm) would be silently skipped: refuse it. */
  #checkNoOtherTargets(linears: readonly Linear[], where: string): void {
    const t = this.settings.target_modules;
    if (typeof t === 'string') return;
    const linearPaths = new Set(linears.map((m) => m.path));
    const other = [...this.model.modules()].find((m) => !linearPaths.has(m.path) && m.path !== '' && matchesName(m.path, t));
    if (other) {
      throw new AdapterError(
        `${where}: target_modules names ${other.path}, which is not a linear layer; LoRA is implemented for linear layers only ` +
          '(to train it in full, list it in modules_to_save / lora_modules_to_save).',
      );
    }
  }

  /** The parameter names of the modules modules_to_save picks (by module name or dotted suffix, as PEFT). */
  #modulesToSaveParams(where: string): Set<string> {
    const out = new Set<string>();
    for (const wanted of this.settings.modules_to_save ?? []) {
      const names = this.model
        .namedParameters()
        .map(([n]) => n)
        .filter((n) => {
          const parts = n.split('.');
          return parts.some((_, i) => i > 0 && matchesName(parts.slice(0, i).join('.'), [wanted]));
        });
      if (names.length === 0) {
        const tied = [...this.model.store.ties.keys()].find((alias) => alias.startsWith(`${wanted}.`));
        throw new AdapterError(
          tied
            ? `${where}: modules_to_save names ${wanted}, whose weight is tied to ${this.model.store.ties.get(tied)}; list that module instead.`
            : `${where}: modules_to_save names ${wanted}, which is no module of this model.`,
        );
      }
      for (const n of names) out.add(n);
    }
    return out;
  }

  /** Whether the adapter is on (the adapted model) or off (the base model). */
  get enabled(): boolean {
    return this.#switch.enabled;
  }

  /** Switches the adapter on or off. Off, the model computes exactly the base model (modules_to_save hold their base values). */
  setEnabled(enabled: boolean): void {
    if (enabled === this.#switch.enabled) return;
    this.#switch.enabled = enabled;
    torch.noGrad(() => {
      for (const s of this.#saved) {
        torch.tidy(() => {
          const current = s.param.clone();
          s.param.copy_(s.base);
          s.base.copy_(current);
        });
      }
    });
  }

  /**
   * Runs `fn` on the base model: adapter off and evaluation mode (no dropout), both restored
   * when `fn` returns (or its promise settles), as TRL computes the reference under disable_adapter().
   */
  withBaseModel<T>(fn: () => T): T {
    const training = this.model.training;
    const restore = () => {
      this.model.train(training);
      this.setEnabled(true);
    };
    this.setEnabled(false);
    this.model.eval();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      restore();
      throw e;
    }
    if (result instanceof Promise) return result.finally(restore) as T;
    restore();
    return result;
  }

  /** [name, tensor] of every trainable tensor: each branch's A and B, then the modules_to_save parameters. */
  namedParameters(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, b] of this.#branches) out.push([`${path}.lora_A.weight`, b.a], [`${path}.lora_B.weight`, b.b]);
    for (const s of this.#saved) out.push([s.name, s.param]);
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Number of trainable elements. */
  get numParameters(): number {
    return this.parameters().reduce((n, t) => n + t.numel, 0);
  }

  /** Whether `name` (an internal parameter name) is held in a transposed layout on disk (GPT-2's Conv1D in modules_to_save). */
  isTransposedOnDisk(name: string): boolean {
    return !name.includes('.lora_') && this.model.layout.isTransposed(name);
  }

  /**
   * Folds scaling·B·A into each adapted layer's weight (PEFT's merge_and_unload), keeps the
   * trained modules_to_save values, removes the branches and makes the weights trainable again:
   * `model` is a plain model afterwards. Rounded once into the base dtype.
   */
  merge(): void {
    if (!this.#switch.enabled) this.setEnabled(true);
    torch.noGrad(() => {
      for (const layer of this.#linears()) {
        const branch = this.#branches.get(layer.path) as LoraBranch;
        torch.tidy(() => {
          const merged = layer.weight.to(branch.a.dtype).add(branch.deltaWeight());
          layer.weight.copy_(merged);
        });
      }
    });
    this.#detach();
  }

  /** Removes the adapter from the model without merging: the base model, trainable again. */
  dispose(): void {
    if (!this.#switch.enabled) this.setEnabled(true);
    torch.noGrad(() => {
      for (const s of this.#saved) s.param.copy_(s.base);
    });
    this.#detach();
  }

  #linears(): Linear[] {
    return [...this.model.modules()].filter((m): m is Linear => m instanceof Linear && this.#branches.has(m.path));
  }

  #detach(): void {
    for (const layer of this.#linears()) layer.adapter = null;
    for (const b of this.#branches.values()) b.dispose();
    for (const s of this.#saved) s.base.dispose();
    this.#branches.clear();
    this.#saved.length = 0;
    for (const [, t] of this.model.namedParameters()) t.requiresGrad_(true);
    if (this.model.adapter === this) this.model.adapter = null;
  }
}
