// What the package sets when the addon loads (src/native/binding.ts), checked in fresh processes
// because both happen once, at load:
// - intra-op threads: Debian's libtorch 1.13 starts with one thread on any machine; with
//   OMP_NUM_THREADS unset the package raises a lone thread to the CPUs the process may use, and
//   OMP_NUM_THREADS=1 keeps one (libtorch reads it itself).
// - glibc's malloc thresholds: applied unless ALPHA_DPO_MALLOC=default or the user tunes malloc
//   through GLIBC_TUNABLES; torch.mallocSettings() says which happened.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, test } from 'node:test';

function loadIn(env: Record<string, string | undefined>): { threads: number; malloc: string } {
  const script = `import { torch } from './src/index.ts';
    console.log(JSON.stringify({ threads: torch.getNumThreads(), malloc: torch.mallocSettings() }));`;
  const base: Record<string, string | undefined> = { ...process.env };
  delete base.OMP_NUM_THREADS;
  delete base.ALPHA_DPO_MALLOC;
  delete base.GLIBC_TUNABLES;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: Object.fromEntries(Object.entries({ ...base, ...env }).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop() as string) as { threads: number; malloc: string };
}

// glibc is the C library here when Node reports a glibc version.
const glibc = Boolean(
  (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime,
);

describe('runtime defaults at load', () => {
  test('threads: more than one where the machine has more than one CPU; OMP_NUM_THREADS=1 keeps one', () => {
    const cpus = availableParallelism();
    const free = loadIn({});
    if (cpus > 1) assert.ok(free.threads > 1, `${free.threads} intra-op thread(s) on a machine with ${cpus} CPUs`);
    assert.ok(free.threads <= cpus, `${free.threads} threads exceed the ${cpus} CPUs`);
    assert.equal(loadIn({ OMP_NUM_THREADS: '1' }).threads, 1);
  });

  test('malloc: thresholds set by default on glibc; ALPHA_DPO_MALLOC=default and GLIBC_TUNABLES leave glibc alone', () => {
    const applied = loadIn({}).malloc;
    if (glibc) assert.match(applied, /^glibc mmap threshold 32 MiB, trim threshold 1 GiB/);
    else assert.match(applied, /not glibc/);
    assert.match(loadIn({ ALPHA_DPO_MALLOC: 'default' }).malloc, /glibc's defaults \(ALPHA_DPO_MALLOC=default\)/);
    assert.match(loadIn({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=268435456' }).malloc, /left to your GLIBC_TUNABLES/);
  });
});

// ALPHA_DPO_ATTENTION: read once when src/nn/attention.ts loads (see docs/models.md).
describe('ALPHA_DPO_ATTENTION', () => {
  const attentionIn = (value: string | undefined) => {
    const script = `import { PRESETS, randomInit } from './src/index.ts';
      console.log(randomInit(PRESETS['llama-tiny']).attentionImplementation);`;
    const env: NodeJS.ProcessEnv = { ...process.env };
    delete env.ALPHA_DPO_ATTENTION;
    if (value !== undefined) env.ALPHA_DPO_ATTENTION = value;
    return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', env });
  };

  test('unset: chunked; eager: eager for every model of the process; anything else: an error naming the choices', () => {
    assert.equal(attentionIn(undefined).stdout.trim(), 'chunked');
    assert.equal(attentionIn('eager').stdout.trim(), 'eager');
    const bad = attentionIn('flash');
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /ALPHA_DPO_ATTENTION must be 'chunked' or 'eager', got 'flash'/);
  });
});
