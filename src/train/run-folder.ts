// One output_dir belongs to one run. While a run trains it holds output_dir/.alpha-dpo.lock
// (its pid, host and start time); a second run on the same folder is refused, and a lock left
// by a process that no longer exists (on this host) is taken over. A folder that already holds a
// run's files is only reused to resume it or when overwrite_output_dir says so, and temporary
// folders left by killed checkpoint writes are removed before the run starts.
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { AlphaDpoError } from '../errors.js';

export const RUN_LOCK_FILE = '.alpha-dpo.lock';

/** output_dir cannot be used: in use by another run, not writable, or holding another run's files. */
export class RunFolderError extends AlphaDpoError {}

/** Files and folders a run writes (and overwrite_output_dir removes); model files are replaced when the run ends. */
const RUN_RECORDS = /^(checkpoint-\d+|metrics\.jsonl|train_summary\.json|runs)$/;

interface LockOwner {
  pid: number;
  host: string;
  started: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const owner = JSON.parse(await readFile(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? (owner as LockOwner) : null;
  } catch {
    return null;
  }
}

export interface ClaimOptions {
  /** The run continues a checkpoint in this folder: its files stay. */
  resume: boolean;
  /** transformers' overwrite_output_dir: the previous run's checkpoints and metrics are removed. */
  overwrite: boolean;
}

export class RunFolder {
  private constructor(
    readonly path: string,
    private readonly lockPath: string,
  ) {}

  /** Takes output_dir for this process (see the file header); release() gives it back. */
  static async claim(path: string, options: ClaimOptions): Promise<RunFolder> {
    await mkdirForRun(path);
    const lockPath = join(path, RUN_LOCK_FILE);
    await takeLock(path, lockPath);
    const folder = new RunFolder(path, lockPath);
    try {
      await removeStaleTemporaries(path);
      const records = (await readdir(path)).filter((name) => RUN_RECORDS.test(name));
      if (records.length > 0 && !options.resume) {
        if (!options.overwrite) {
          throw new RunFolderError(
            `output_dir ${path} already holds a run (${records.slice(0, 4).join(', ')}${records.length > 4 ? ', …' : ''}). ` +
              'Continue it with --resume, set overwrite_output_dir: true to replace it, or choose another output_dir.',
          );
        }
        for (const name of records) await rm(join(path, name), { recursive: true, force: true });
      }
    } catch (e) {
      await folder.release();
      throw e;
    }
    return folder;
  }

  /** Gives the folder back (idempotent). */
  async release(): Promise<void> {
    const owner = await readOwner(this.lockPath);
    if (owner?.pid === process.pid && owner.host === hostname()) await rm(this.lockPath, { force: true });
  }
}

async function takeLock(folder: string, lockPath: string): Promise<void> {
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await fh.close();
      }
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EROFS' || code === 'EPERM') {
        throw new RunFolderError(`output_dir ${folder} is not writable (${code}); choose a folder this user can write to.`);
      }
      if (code !== 'EEXIST') throw e;
    }
    const owner = await readOwner(lockPath);
    const stale = owner !== null && owner.host === hostname() && !isAlive(owner.pid);
    if (!stale) {
      const who = owner ? `process ${owner.pid} on ${owner.host}, since ${owner.started}` : 'another process (unreadable lock)';
      throw new RunFolderError(
        `output_dir ${folder} is in use by ${who}. Wait for that run to end or choose another output_dir; ` +
          `if that process is gone, delete ${lockPath}.`,
      );
    }
    await rm(lockPath, { force: true });
  }
  throw new RunFolderError(`output_dir ${folder}: could not take ${RUN_LOCK_FILE} (another run took it first).`);
}

/** `.tmp-*` folders and `*.tmp-<pid>-*` files are the unfinished writes of a killed process; the lock says none is running. */
async function removeStaleTemporaries(folder: string): Promise<void> {
  for (const name of await readdir(folder)) {
    if (name.startsWith('.tmp-') || /\.tmp-\d+-[0-9a-f]+$/.test(name)) await rm(join(folder, name), { recursive: true, force: true });
  }
}

async function mkdirForRun(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new RunFolderError(`cannot create output_dir ${path} (${code}); choose a folder this user can write to.`);
  }
}
