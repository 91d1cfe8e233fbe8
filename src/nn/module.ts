// The Module base: a node of the model tree with its Hugging Face key path and a training flag.
// Parameters live in the ParameterStore under that path; a Module holds direct references to its
// own tensors for its forward pass and to its children for train()/eval().
import type { StorePath } from './parameter-store.js';

export abstract class Module {
  /** The Hugging Face key prefix of this module's parameters, e.g. `model.layers.3.self_attn`. */
  readonly path: string;
  readonly #children: Module[] = [];
  #training = false;

  constructor(path: StorePath) {
    this.path = path.prefix;
  }

  /** Registers `child` for train()/eval() and returns it. */
  protected child<M extends Module>(child: M): M {
    this.#children.push(child);
    return child;
  }

  /** True in training mode (dropout active). Modules start in evaluation mode, as transformers' from_pretrained leaves them. */
  get training(): boolean {
    return this.#training;
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    this.#training = mode;
    for (const c of this.#children) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** This module and its descendants, depth first. */
  *modules(): Generator<Module> {
    yield this;
    for (const c of this.#children) yield* c.modules();
  }
}
