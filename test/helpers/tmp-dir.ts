// Temporary folders for tests: one place that creates them under the OS temp folder and removes
// them, so a failing test leaves nothing behind and no suite hand-rolls mkdtemp + rm.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/** A new empty folder `<os temp>/<prefix>XXXXXX`; the caller removes it (see removeTempDir). */
export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a folder made by makeTempDir, with everything in it; a folder already gone is fine. */
export async function removeTempDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Runs `fn` with a new empty folder and removes the folder afterwards, whether `fn` returns or throws. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T> | T): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeTempDir(dir);
  }
}

/**
 * For folders shared by the tests of one file: returns a function that makes a new folder each
 * call, all removed when the file's tests have run. Call it at the top level of a test file
 * (it registers a node:test `after` hook there).
 */
export function tempDirsRemovedAfterAll(prefix: string): () => Promise<string> {
  const made: string[] = [];
  after(async () => {
    for (const dir of made.splice(0)) await removeTempDir(dir);
  });
  return async () => {
    const dir = await makeTempDir(prefix);
    made.push(dir);
    return dir;
  };
}
