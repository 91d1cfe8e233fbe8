// Command-line parsing shared by `alpha-dpo dashboard` and `alpha-dpo report`: run folders as
// positional arguments plus a few flags.
import { parseArgs } from 'node:util';
import { UsageError } from './command.js';

export interface RunFolderArgs {
  dirs: string[];
  flags: Record<string, string | undefined>;
  help: boolean;
}

/** Parses `DIR [DIR ...] --flag value ...` with the given string flags. */
export function parseRunFolderArgs(argv: readonly string[], flags: readonly string[], command: string): RunFolderArgs {
  const options = Object.fromEntries(flags.map((f) => [f, { type: 'string' as const }]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}. Run alpha-dpo ${command} --help.`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  return {
    dirs: parsed.positionals,
    flags: Object.fromEntries(flags.map((f) => [f, values[f] as string | undefined])),
    help: values.help === true,
  };
}
