// Command-line arguments of `alpha-dpo data …`: positional files, a few command flags, and one
// flag per data setting, named and typed by DATA_CONFIG_SCHEMA (`--max_length 1024`).

import { nearestName } from '../config/suggest.js';
import {
  DATA_CONFIG_KEYS,
  DATA_CONFIG_SCHEMA,
  type DataConfigInput,
  type DataConfigKey,
  parseDataConfigValue,
  resolveDataConfig,
} from '../data/data-config.js';
import { DataConfigError } from '../data/errors.js';

export interface DataCommandArgs {
  files: string[];
  /** Flags of the command itself (`--model DIR`, `--out FILE`, `--split NAME`), by name. */
  flags: Map<string, string>;
  /** Switches without a value (`--json`). */
  switches: Set<string>;
  /** The data settings given as flags, checked against the schema. */
  config: DataConfigInput;
}

/** Parses `argv`; `valueFlags` and `switchFlags` are the command's own flags (without `--`). */
export function parseDataArgs(argv: readonly string[], valueFlags: readonly string[], switchFlags: readonly string[]): DataCommandArgs {
  const out: DataCommandArgs = { files: [], flags: new Map(), switches: new Set(), config: {} };
  const raw: Record<string, unknown> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      out.files.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    if (switchFlags.includes(name)) {
      out.switches.add(name);
      continue;
    }
    const known = valueFlags.includes(name) || name in DATA_CONFIG_SCHEMA;
    if (!known) {
      const near = nearestName(name, [...valueFlags, ...switchFlags, ...DATA_CONFIG_KEYS]);
      throw new DataConfigError(
        `--${name}`,
        `unknown option.${near ? ` Did you mean --${near}?` : ''} Run alpha-dpo data --help for the list.`,
      );
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new DataConfigError(`--${name}`, 'needs a value.');
    if (valueFlags.includes(name)) out.flags.set(name, value);
    else raw[name] = parseDataConfigValue(name as DataConfigKey, value);
  }
  resolveDataConfig(raw);
  out.config = raw as DataConfigInput;
  return out;
}

/** The data-setting flags for --help, one line each: name, default, doc. */
export function dataFlagsHelp(): string {
  return DATA_CONFIG_KEYS.map((key) => {
    const spec = DATA_CONFIG_SCHEMA[key];
    const values = spec.type === 'enum' ? ` (${spec.values.join(' | ')})` : '';
    const type = spec.type === 'boolean' ? 'true|false' : spec.type === 'number' ? 'INTEGER' : spec.type.toUpperCase();
    return `  --${key} ${type}${values}, default ${JSON.stringify(spec.default)}\n      ${spec.doc}`;
  }).join('\n');
}
