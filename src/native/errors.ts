// The errors that come out of the libtorch addon: a libtorch exception on an op (TorchError) and
// an addon that cannot be loaded at all (AddonLoadError).
import { AlphaDpoError } from '../errors.js';

/**
 * An exception raised by libtorch inside a tensor op (shape or dtype mismatch, index out of
 * range, a tensor used after dispose()). The message is libtorch's, without its C++ backtrace.
 * The addon creates these as plain Errors named 'TorchError'; the native loader gives each this
 * prototype as it passes by, so `e instanceof TorchError` (and `instanceof AlphaDpoError`) hold.
 */
export class TorchError extends AlphaDpoError {}

/** The libtorch addon (build/Release/alpha_dpo_native.node) is missing, unbuilt or cannot load its libraries. */
export class AddonLoadError extends AlphaDpoError {
  /** The .node file that was tried. */
  readonly path: string;

  constructor(path: string, reason: string, options?: { cause?: unknown; fromEnvironment?: boolean }) {
    const fix = options?.fromEnvironment
      ? 'ALPHA_DPO_ADDON names it: build it with `npm run build:native -- --out DIR` (it is DIR/build/Release/alpha_dpo_native.node), or unset ALPHA_DPO_ADDON.'
      : 'Build it with `npm run build:native` (it needs libtorch: see `bash scripts/setup.sh`, or set LIBTORCH to a libtorch folder).';
    super(`alpha-dpo could not load its libtorch addon (${path}): ${reason}\n${fix}`, options);
    this.path = path;
  }
}
