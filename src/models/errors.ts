// Errors a user can cause when loading, building or saving a model. Each says what to do.
import { ConfigError } from '../config/config-error.js';
import { AlphaDpoError } from '../errors.js';

/** A config.json value of the wrong type, out of range, or inconsistent with another. */
export class ModelConfigError extends ConfigError {
  constructor(key: string, message: string, where: string | null = 'config.json', problems: readonly ConfigError[] = []) {
    super(key, message, where, problems);
  }
}

/** An architecture this package does not implement. */
export class UnsupportedArchitectureError extends AlphaDpoError {
  readonly architecture: string;

  constructor(architecture: string, supported: readonly string[], where: string) {
    super(
      `${where}: architecture '${architecture}' is not supported. Supported: ${supported.join(', ')}. ` +
        '(Models of other families need their own implementation under src/models/.)',
    );
    this.architecture = architecture;
  }
}

/**
 * A model folder whose weights are only in PyTorch pickle files (.bin, .pt, .pth, .ckpt).
 * Unpickling runs code named by the file, so a downloaded pickle can execute anything: they are
 * never opened.
 */
export class UnsafeCheckpointError extends AlphaDpoError {
  readonly files: readonly string[];

  constructor(dir: string, files: readonly string[]) {
    super(
      `${dir}: the weights are in PyTorch pickle format (${files.join(', ')}). Loading a pickle can run arbitrary code, ` +
        'so alpha-dpo never opens them. Convert the folder to safetensors where you trust the file, e.g. in Python: ' +
        '`AutoModelForCausalLM.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)` (transformers), ' +
        "or use the hub's safetensors conversion (https://huggingface.co/spaces/safetensors/convert).",
    );
    this.files = files;
  }
}

/** A model folder without the files needed to load it. */
export class ModelFolderError extends AlphaDpoError {}
