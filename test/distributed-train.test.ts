// Data-parallel training end to end through the `alpha-dpo train` command: N processes with a
// share of each batch must compute what one process computes with the whole batch. Every
// expected value comes from a run of the same command in one process (or without interruption).
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadSafetensors, PRESETS, randomInit, torch } from '../src/index.js';
import { freePort } from './helpers/free-port.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const cli = join(here, '..', 'src', 'cli', 'main.ts');
const noC10d = torch.distributed.isAvailable()
  ? false
  : 'this addon was built without c10d/Gloo (install libgloo-dev, npm run build:native)';
let root = '';

const words = ['red', 'blue', 'green', 'cat', 'dog', 'sun', 'moon', 'tree', 'sea', 'sky'];
function rows(n: number): string {
  return Array.from({ length: n }, (_, i) => {
    const w = (k: number) => words[(i * 7 + k * 3) % words.length];
    return JSON.stringify({
      prompt: [{ role: 'user', content: `name a ${w(0)} thing ${i % 3 === 0 ? 'please' : ''}` }],
      chosen: [{ role: 'assistant', content: `${w(1)} ${w(2)}${i % 2 ? ` ${w(4)}` : ''}` }],
      rejected: [{ role: 'assistant', content: `${w(3)}${i % 4 ? '' : ` ${w(5)} ${w(6)}`}` }],
    });
  }).join('\n');
}

before(async () => {
  root = await makeTempDir('alpha-dpo-dist-');
  torch.manualSeed(0);
  const model = randomInit({ ...PRESETS['llama-tiny'], vocab_size: 272 });
  await model.savePretrained(join(root, 'model'));
  model.dispose();
  const fixtures = join(here, 'fixtures', 'models', 'tokenizer-chatml');
  for (const f of ['tokenizer.json', 'tokenizer_config.json']) await copyFile(join(fixtures, f), join(root, 'model', f));
  await mkdir(join(root, 'data'));
  await writeFile(join(root, 'data', 'train.jsonl'), rows(24));
});
after(() => removeTempDir(root));

const LOSSES: Record<string, string[]> = {
  'alpha-dpo': ['loss_type: alpha-dpo', 'beta: 2.5', 'alpha: 0.05', 'gamma_beta_ratio: 0.3'],
  sigmoid: ['loss_type: sigmoid', 'beta: 0.5'],
};

async function writeConfig(name: string, loss: string, extra: string[]): Promise<string> {
  const file = join(root, `${name}.yaml`);
  const lines = [
    `model_name_or_path: ${join(root, 'model')}`,
    `dataset: ${join(root, 'data')}`,
    ...(LOSSES[loss] as string[]),
    'learning_rate: 5.0e-3',
    // Adam's update is ±lr for any gradient well above ε, whatever its size: with PyTorch's ε = 1e-8, a weight whose
    // true gradient is ~0 moves by ±lr depending on the sign of its float32 rounding noise (~1e-9), which differs between
    // batches padded to different lengths (measured: 3 of 17408 embedding weights off by 6e-5 after 5 steps, in one
    // process or two alike). A larger ε makes the update continuous at 0, so the comparison tests the averaging, not that.
    'adam_epsilon: 1.0e-4',
    'logging_steps: 1',
    'eval_strategy: "no"',
    'seed: 7',
    'ddp_timeout: 30',
    ...extra,
  ];
  await writeFile(file, lines.join('\n'));
  return file;
}

interface Run {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>;
}

function start(args: string[], env: Record<string, string> = {}): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', cli, 'train', ...args], {
    env: { ...process.env, OMP_NUM_THREADS: '1', ...env },
  });
  let output = '';
  child.stdout?.on('data', (d) => {
    output += d;
  });
  child.stderr?.on('data', (d) => {
    output += d;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; output: string }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, output })),
  );
  return { child, done };
}

/** Waits until rank 0 has logged `step` to out/metrics.jsonl; fails if the launcher ends first. */
async function untilLogged(out: string, step: number, launcher: Run): Promise<void> {
  while (!(await readFile(join(out, 'metrics.jsonl'), 'utf8').catch(() => '')).includes(`"step":${step},`)) {
    assert.equal(launcher.child.exitCode, null, `the launcher ended before step ${step}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The process ids of the launcher's workers (its child processes). */
function workersOf(launcher: Run): number[] {
  return execFileSync('ps', ['-o', 'pid=', '--ppid', String(launcher.child.pid)], { encoding: 'utf8' })
    .trim()
    .split(/\s+/)
    .map(Number);
}

async function trainOk(args: string[], env: Record<string, string> = {}): Promise<string> {
  const r = await start(args, env).done;
  assert.equal(r.code, 0, r.output);
  return r.output;
}

async function stepLosses(out: string): Promise<number[]> {
  const text = await readFile(join(out, 'metrics.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>)
    .filter((r) => 'loss' in r)
    .map((r) => r.loss as number);
}

async function lossState(checkpoint: string): Promise<Record<string, number>> {
  return JSON.parse(await readFile(join(checkpoint, 'trainer_state.json'), 'utf8')).loss_state;
}

/** max over tensors of ‖a − b‖∞ / ‖a‖∞ between two model.safetensors files. */
async function weightDifference(a: string, b: string): Promise<number> {
  const [x, y] = [await loadSafetensors(join(a, 'model.safetensors')), await loadSafetensors(join(b, 'model.safetensors'))];
  let worst = 0;
  for (const [name, t] of x.tensors) {
    const u = y.tensors.get(name);
    assert.ok(u, `${name} in both`);
    const diff = t.sub(u).abs().max().item() / Math.max(t.abs().max().item(), 1e-30);
    worst = Math.max(worst, diff);
  }
  for (const t of [...x.tensors.values(), ...y.tensors.values()]) t.dispose();
  return worst;
}

function assertClose(actual: number[], expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => {
    const e = expected[i] as number;
    assert.ok(Math.abs(v - e) <= 1e-5 * Math.max(Math.abs(e), 1e-3), `${what}[${i}]: ${v} vs ${e} (one process)`);
  });
}

describe('data-parallel training (2 processes, gloo on loopback)', { skip: noC10d }, () => {
  for (const loss of ['alpha-dpo', 'sigmoid']) {
    test(`${loss}: 2 processes × 2 pairs per step = 1 process × 4 pairs per step (5 steps: losses, final weights, running statistics)`, async () => {
      const one = join(root, `${loss}-one`);
      const two = join(root, `${loss}-two`);
      const config = await writeConfig(loss, loss, ['max_steps: 5', 'save_steps: 5']);
      await trainOk([config, '--per_device_train_batch_size', '4', '--output_dir', one]);
      const port = await freePort();
      const out = await trainOk([
        config,
        '--per_device_train_batch_size',
        '2',
        '--output_dir',
        two,
        '--nproc_per_node',
        '2',
        '--master_port',
        String(port),
      ]);
      assert.match(out, /launching 2 worker\(s\) on node 0 of 1 \(world size 2/);
      assert.match(out, /global batch 2 × 1 × 2/);
      const expected = await stepLosses(one);
      assert.equal(expected.length, 5);
      assertClose(await stepLosses(two), expected, `${loss} step losses`);
      const diff = await weightDifference(one, two);
      assert.ok(diff <= 1e-5, `final weights differ by ${diff} (relative, worst tensor)`);
      const [s1, s2] = [await lossState(join(one, 'checkpoint-5')), await lossState(join(two, 'checkpoint-5'))];
      assert.equal(s2.steps, s1.steps);
      if (loss === 'alpha-dpo') assert.equal(s1.steps, 5, 'α-DPO updated its statistics once per step');
      assertClose(
        [s2.mean as number, s2.std as number, s2.variance as number],
        [s1.mean as number, s1.std as number, s1.variance as number],
        'α-DPO running mean, std, variance',
      );
      assert.ok((await readdir(two)).includes('model.safetensors'));
      if (loss === 'alpha-dpo') {
        // The one-process checkpoint counts global batches of 4 pairs; 2 processes × 4 pairs would read 8 per step.
        const port2 = String(await freePort());
        const r = await start([
          config,
          '--output_dir',
          one,
          '--resume',
          '--max_steps',
          '6',
          '--nproc_per_node',
          '2',
          '--master_port',
          port2,
        ]).done;
        assert.notEqual(r.code, 0);
        assert.match(r.output, /global batches of 4 pairs .* this run has 4 × 2 processes = 8: resume it with 1 process/);
      }
    });
  }

  test('2 "nodes" × 1 process with --nnodes 2 on loopback train exactly as 2 processes on one node', async () => {
    const config = await writeConfig('nodes', 'alpha-dpo', ['max_steps: 5', 'save_steps: 5', 'per_device_train_batch_size: 2']);
    const reference = join(root, 'alpha-dpo-two'); // the 2-process run of the test above
    const out = join(root, 'nodes');
    const port = String(await freePort());
    const node = (rank: number) =>
      start([
        config,
        '--output_dir',
        out,
        '--nproc_per_node',
        '1',
        '--nnodes',
        '2',
        '--node_rank',
        String(rank),
        '--master_addr',
        '127.0.0.1',
        '--master_port',
        port,
      ]);
    const [n0, n1] = [node(0), node(1)];
    const [r0, r1] = [await n0.done, await n1.done];
    assert.equal(r0.code, 0, r0.output);
    assert.equal(r1.code, 0, r1.output);
    assertClose(await stepLosses(out), await stepLosses(reference), 'step losses');
    assert.ok((await weightDifference(reference, out)) <= 1e-5);
  });

  test('kill -9 of rank 1 mid-run: rank 0 exits non-zero naming rank 1; --resume then ends with the uninterrupted weights', async () => {
    const steps = 40;
    const config = await writeConfig('faults', 'alpha-dpo', [
      `max_steps: ${steps}`,
      'save_steps: 2',
      'save_total_limit: 2',
      'per_device_train_batch_size: 2',
    ]);
    const whole = join(root, 'faults-whole');
    await trainOk([config, '--output_dir', whole, '--nproc_per_node', '2', '--master_port', String(await freePort())]);

    // The workers as a cluster launcher would start them (torchrun's environment), so the test holds their pids.
    const out = join(root, 'faults');
    const port = String(await freePort());
    const env = (rank: number) => ({
      RANK: String(rank),
      WORLD_SIZE: '2',
      LOCAL_WORLD_SIZE: '2',
      MASTER_ADDR: '127.0.0.1',
      MASTER_PORT: port,
    });
    const [w0, w1] = [start([config, '--output_dir', out], env(0)), start([config, '--output_dir', out], env(1))];
    // Kill rank 1 once the run is under way: when checkpoint-4 exists.
    while (!(await readdir(out).catch(() => [] as string[])).includes('checkpoint-4')) {
      if (w0.child.exitCode !== null || w1.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const killedAt = performance.now();
    w1.child.kill('SIGKILL');
    const [r0, r1] = [await w0.done, await w1.done];
    const seconds = (performance.now() - killedAt) / 1000;
    assert.equal(r1.signal, 'SIGKILL', `rank 1 was still running when killed:\n${r1.output}`);
    assert.notEqual(r0.code, 0, r0.output);
    assert.match(r0.output, /rank 1 has stopped/);
    console.log(`rank 0 stopped ${seconds.toFixed(1)} s after rank 1 was killed (ddp_timeout 30 s)`);
    const checkpoints = (await readdir(out)).filter((f) => f.startsWith('checkpoint-'));
    assert.ok(checkpoints.length > 0);

    const port2 = String(await freePort());
    await trainOk([config, '--output_dir', out, '--resume', '--nproc_per_node', '2', '--master_port', port2]);
    const losses = await stepLosses(out);
    assert.equal(losses.length, steps);
    assertClose(losses, await stepLosses(whole), 'step losses after the resume');
    const diff = await weightDifference(whole, out);
    assert.ok(diff <= 1e-5, `resumed final weights differ by ${diff}`);
  });

  test('Ctrl-C on the launcher: every worker stops after the same step, rank 0 checkpoints it, exit 130, no worker left', async () => {
    const config = await writeConfig('ctrl-c', 'sigmoid', ['max_steps: 100000', 'save_steps: 100000', 'per_device_train_batch_size: 2']);
    const out = join(root, 'ctrl-c');
    const launcher = start([config, '--output_dir', out, '--nproc_per_node', '2', '--master_port', String(await freePort())]);
    // Under way: rank 0 has logged step 3.
    await untilLogged(out, 3, launcher);
    const workers = workersOf(launcher);
    assert.equal(workers.length, 2, 'two workers');
    launcher.child.kill('SIGINT');
    const r = await launcher.done;
    assert.equal(r.code, 130, r.output);
    const stopped = /stopped at step (\d+)\//.exec(r.output);
    assert.ok(stopped, r.output);
    assert.ok((await readdir(out)).includes(`checkpoint-${stopped[1]}`), `checkpoint-${stopped[1]} written`);
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
  });

  test('the launcher killed with SIGKILL: its workers notice and exit (no orphans)', async () => {
    const config = await writeConfig('orphans', 'sigmoid', ['max_steps: 100000', 'save_strategy: "no"', 'per_device_train_batch_size: 2']);
    const out = join(root, 'orphans');
    const launcher = start([config, '--output_dir', out, '--nproc_per_node', '2', '--master_port', String(await freePort())]);
    await untilLogged(out, 2, launcher);
    const workers = workersOf(launcher);
    assert.equal(workers.length, 2, 'two workers');
    launcher.child.kill('SIGKILL');
    await launcher.done;
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // No time limit: a worker that never noticed would hang this test, which is the failure it reports.
    while (workers.some(alive)) await new Promise((r) => setTimeout(r, 100));
  });
});
