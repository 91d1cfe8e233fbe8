// A reader that goes away early (`alpha-dpo info | head -1`, a pager quit) closes the CLI's stdout
// pipe. The command must still finish with its own exit code, without an unhandled EPIPE crash
// (Node's default for a write to a closed pipe is an uncaught 'error' event, exit code 1).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

describe('CLI output pipe', () => {
  test('stdout closed before the first write: `info` still exits 0 and reports no EPIPE', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'info'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Close our end at once: info loads the addon first, so every one of its writes meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.doesNotMatch(stderr, /EPIPE/);
    assert.equal(code, 0, stderr);
  });
});
