// Atomic file replacement: write a temporary file in the same folder, fsync it, rename it over
// the target, fsync the folder. Readers see the old file or the complete new one, never a part.
import { randomBytes } from 'node:crypto';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The largest single read or write issued (Linux moves at most ~2 GiB per call). */
export const MAX_IO_CHUNK = 1 << 30;

/** Writes all of `data` at `position`, looping over short writes. */
export async function writeFully(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.byteLength) {
    const { bytesWritten } = await fh.write(data, done, Math.min(data.byteLength - done, MAX_IO_CHUNK), position + done);
    done += bytesWritten;
  }
}

// Makes the rename itself durable. Best effort: some platforms cannot open or fsync a folder.
async function syncFolder(folder: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(folder, 'r');
    await fh.sync();
  } catch {
    // not supported here (Windows, some network file systems): the rename is still atomic
  } finally {
    await fh?.close().catch(() => {});
  }
}

/**
 * Creates or replaces `path` atomically with what `write` writes into the file handle it is given
 * (a fresh, empty file named `<path>.tmp-<pid>-<random>`). On any error the temporary file is
 * removed and `path` is left as it was.
 */
export async function writeFileAtomically(path: string, write: (fh: FileHandle) => Promise<void>): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  const fh = await open(tmp, 'wx');
  try {
    let failed = false;
    try {
      await write(fh);
      await fh.sync();
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // A close error matters only when everything before it succeeded.
      await fh.close().catch((error: unknown) => {
        if (!failed) throw error;
      });
    }
    await rename(tmp, path);
  } catch (error) {
    await rm(tmp, { force: true }).catch(() => {});
    throw error;
  }
  await syncFolder(dirname(path));
}
