// What every `alpha-dpo` subcommand is: a function of its arguments and two output streams that
// returns the exit code. Errors a user can fix (AlphaDpoError: config keys, files, rows, flags)
// become one line on stderr and exit code 1 (2 for usage mistakes); anything else is a bug and
// keeps its stack trace.
import { AlphaDpoError } from '../errors.js';

export interface CommandIO {
  /** Results (stdout). */
  out(text: string): void;
  /** Progress, notes and error messages (stderr). */
  err(text: string): void;
}

export type Command = (args: string[], io: CommandIO) => Promise<number>;

/** A mistake in the command line itself (unknown flag, missing argument): exit code 2. */
export class UsageError extends AlphaDpoError {}

/** Runs `command`, turning a user's error into a message and an exit code. */
export async function runCommand(name: string, command: Command, args: string[], io: CommandIO): Promise<number> {
  try {
    return await command(args, io);
  } catch (e) {
    if (!(e instanceof AlphaDpoError)) throw e;
    io.err(`alpha-dpo ${name}: ${e.message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}

/** Line-oriented logging onto a stream. */
export function lineWriter(write: (text: string) => void): (line: string) => void {
  return (line) => write(`${line}\n`);
}
