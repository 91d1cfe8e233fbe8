// The run around the training loop: output_dir ownership (lock, stale lock, refusing another
// run's folder, overwrite_output_dir, stale temporaries), metrics.jsonl rewound on resume, a
// checkpoint refused by a run with another config, damaged trainer_state.json, evaluation at
// step 0 and held-out evaluation pairs, and float32 master weights for bf16 parameters.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ModelCompatibilityError, PRESETS, randomInit, type TokenizedPair, torch } from '../src/index.js';
import { AdamW } from '../src/optim/adamw.js';
import { CheckpointError, resolveTrainConfig, type TrainConfig, trainPreferences } from '../src/train/index.js';
import { RUN_LOCK_FILE, RunFolder, RunFolderError } from '../src/train/run-folder.js';
import { holdOut } from '../src/train/training-data.js';
import { makePairs, tinyModel } from './helpers/tiny-training.js';
import { tempDirsRemovedAfterAll } from './helpers/tmp-dir.js';

const tempDir = tempDirsRemovedAfterAll('alpha-dpo-run-');

const model = tinyModel;

function config(overrides: Record<string, unknown>): TrainConfig {
  return resolveTrainConfig({
    loss_type: 'sigmoid',
    beta: 0.1,
    learning_rate: 1e-3,
    per_device_train_batch_size: 2,
    logging_steps: 1,
    save_strategy: 'no',
    seed: 7,
    ...overrides,
  });
}

async function run(
  c: TrainConfig,
  pairs: TokenizedPair[],
  options: { stopAfter?: number; evalPairs?: TokenizedPair[]; log?: string[] } = {},
) {
  const stop = new AbortController();
  const policy = model(1);
  const reference = model(1);
  try {
    return await trainPreferences(
      c,
      { policy, reference, train: pairs, eval: options.evalPairs ?? null },
      {
        quiet: true,
        log: (l) => options.log?.push(l),
        signal: stop.signal,
        onStep: (step) => step === options.stopAfter && stop.abort(),
      },
    );
  } finally {
    policy.dispose();
    reference.dispose();
  }
}

async function metricLines(dir: string): Promise<Record<string, number>[]> {
  const text = await readFile(join(dir, 'metrics.jsonl'), 'utf8');
  return text
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, number>);
}

describe('output_dir belongs to one run', () => {
  test('a second claim while the first holds the folder is refused, naming the holder; release frees it', async () => {
    const dir = await tempDir();
    const first = await RunFolder.claim(dir, { resume: false, overwrite: false });
    await assert.rejects(RunFolder.claim(dir, { resume: false, overwrite: false }), (e: unknown) => {
      assert.ok(e instanceof RunFolderError);
      // This process holds it, and the lock of a live process (our own pid here, from another claim) is not stale.
      return true;
    });
    await first.release();
    assert.deepEqual(
      (await readdir(dir)).filter((n) => n === RUN_LOCK_FILE),
      [],
    );
    const again = await RunFolder.claim(dir, { resume: false, overwrite: false });
    await again.release();
  });

  test('a lock held by a live process elsewhere is refused; one left by a dead process is taken over', async () => {
    const dir = await tempDir();
    const { hostname } = await import('node:os');
    // PID 1 always exists: a live owner.
    await writeFile(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: 1, host: hostname(), started: 'then' }));
    await assert.rejects(RunFolder.claim(dir, { resume: false, overwrite: false }), /in use by process 1 on/);
    // A process that has exited: its pid is free (spawnSync waits for it).
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    await writeFile(join(dir, RUN_LOCK_FILE), JSON.stringify({ pid: Number(dead.stdout), host: hostname(), started: 'then' }));
    const folder = await RunFolder.claim(dir, { resume: false, overwrite: false });
    const owner = JSON.parse(await readFile(join(dir, RUN_LOCK_FILE), 'utf8')) as { pid: number };
    assert.equal(owner.pid, process.pid);
    await folder.release();
  });

  test("a folder holding another run's files needs --resume or overwrite_output_dir; stale temporaries go", async () => {
    const dir = await tempDir();
    const pairs = makePairs(8, 3);
    await run(config({ max_steps: 2, output_dir: dir, save_strategy: 'steps', save_steps: 1 }), pairs);
    await assert.rejects(run(config({ max_steps: 2, output_dir: dir }), pairs), (e: unknown) => {
      assert.ok(e instanceof RunFolderError);
      assert.match((e as Error).message, /already holds a run .*--resume.*overwrite_output_dir/);
      return true;
    });
    // A killed checkpoint write leaves a temporary folder (1.73 GB over 12 runs in the probe).
    await mkdir(join(dir, '.tmp-checkpoint-9-12345'));
    await writeFile(join(dir, '.tmp-checkpoint-9-12345', 'model.safetensors'), 'partial');
    await run(config({ max_steps: 1, output_dir: dir, overwrite_output_dir: true }), pairs);
    const names = await readdir(dir);
    assert.ok(!names.some((n) => n.startsWith('.tmp-')), names.join(', '));
    assert.ok(!names.some((n) => n.startsWith('checkpoint-')), `the old run's checkpoints were removed: ${names.join(', ')}`);
    assert.deepEqual(
      (await metricLines(dir)).map((r) => r.step),
      [1],
    );
    assert.ok(!names.includes(RUN_LOCK_FILE), 'the lock is released when the run ends');
  });

  test('an output_dir that cannot be created is a clear error before training', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'a-file'), '');
    await assert.rejects(
      run(config({ max_steps: 1, output_dir: join(dir, 'a-file', 'out') }), makePairs(4, 1)),
      /cannot create output_dir .*ENOTDIR/,
    );
  });
});

describe('models checked before training', () => {
  test('a tokenizer larger than the embedding, or a reference of another architecture, fails before the first step', async () => {
    const policy = model(1);
    const other = randomInit(PRESETS['gpt2-tiny']);
    const pairs = makePairs(4, 1);
    try {
      // llama-tiny's embedding has 256 rows (PRESETS): a 300-token tokenizer has ids with no row.
      const tokenizer = { vocabSize: 300, padTokenId: 0, eosTokenId: 1 };
      await assert.rejects(
        trainPreferences(config({ max_steps: 1 }), { policy, reference: model(1), tokenizer, train: pairs }, { quiet: true }),
        (e: unknown) => e instanceof ModelCompatibilityError && /300 tokens but the policy model's embedding has 256/.test(e.message),
      );
      await assert.rejects(
        trainPreferences(config({ max_steps: 1 }), { policy, reference: other, train: pairs }, { quiet: true }),
        (e: unknown) =>
          e instanceof ModelCompatibilityError &&
          /reference model is GPT2LMHeadModel .* but the policy is LlamaForCausalLM/.test(e.message),
      );
    } finally {
      policy.dispose();
      other.dispose();
    }
  });
});

describe('resume', () => {
  test('metrics.jsonl is rewound to the checkpoint: the resumed file has each step once, like an uninterrupted run', async () => {
    const pairs = makePairs(12, 5);
    const straight = await tempDir();
    await run(config({ max_steps: 6, output_dir: straight }), pairs);
    const dir = await tempDir();
    await run(config({ max_steps: 6, output_dir: dir }), pairs, { stopAfter: 3 });
    // Simulate a kill -9 after more records were written than the checkpoint holds, with a torn last line.
    const checkpoints = (await readdir(dir)).filter((n) => n.startsWith('checkpoint-'));
    assert.equal(checkpoints.length, 1);
    const at = Number((checkpoints[0] as string).slice('checkpoint-'.length));
    await writeFile(
      join(dir, 'metrics.jsonl'),
      `${await readFile(join(dir, 'metrics.jsonl'), 'utf8')}{"step":${at + 1},"loss":1}\n{"step":${at + 2},"lo`,
      {
        flag: 'w',
      },
    );
    await run(config({ max_steps: 6, output_dir: dir, resume_from_checkpoint: 'latest' }), pairs);
    const resumed = await metricLines(dir);
    const expected = await metricLines(straight);
    assert.deepEqual(
      resumed.map((r) => r.step),
      [1, 2, 3, 4, 5, 6],
    );
    // Same losses as the uninterrupted run, step for step (exact resume), apart from throughput.
    assert.deepEqual(
      resumed.map((r) => r.loss),
      expected.map((r) => r.loss),
    );
  });

  test('a checkpoint written with another config is refused, showing the difference', async () => {
    const pairs = makePairs(8, 2);
    const dir = await tempDir();
    await run(config({ max_steps: 2, output_dir: dir, save_strategy: 'steps', save_steps: 2 }), pairs);
    await assert.rejects(
      run(config({ beta: 0.2, max_steps: 4, output_dir: dir, resume_from_checkpoint: 'latest' }), pairs),
      (e: unknown) => {
        assert.ok(e instanceof CheckpointError);
        assert.match((e as Error).message, /beta: checkpoint 0\.1, now 0\.2/);
        return true;
      },
    );
    // More steps (and other logging) may change on resume: training continues to step 4.
    const summary = await run(config({ max_steps: 4, logging_steps: 2, output_dir: dir, resume_from_checkpoint: 'latest' }), pairs);
    assert.equal(summary.steps, 4);
  });

  test('a damaged trainer_state.json is a CheckpointError naming the field', async () => {
    const pairs = makePairs(8, 2);
    const dir = await tempDir();
    await run(config({ max_steps: 2, output_dir: dir, save_strategy: 'steps', save_steps: 2 }), pairs);
    const file = join(dir, 'checkpoint-2', 'trainer_state.json');
    const state = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...state, global_step: '2' }));
    await assert.rejects(run(config({ max_steps: 4, output_dir: dir, resume_from_checkpoint: 'latest' }), pairs), (e: unknown) => {
      assert.ok(e instanceof CheckpointError);
      assert.match((e as Error).message, /global_step must be a whole number/);
      return true;
    });
  });
});

describe('evaluation', () => {
  test('eval_on_start logs a step-0 evaluation: with policy = reference the DPO loss is ln 2 and the margins 0', async () => {
    const dir = await tempDir();
    await run(config({ max_steps: 2, output_dir: dir, eval_on_start: true, eval_steps: 2 }), makePairs(8, 4), {
      evalPairs: makePairs(4, 9),
    });
    const evals = (await metricLines(dir)).filter((r) => 'eval_loss' in r);
    assert.deepEqual(
      evals.map((r) => r.step),
      [0, 2],
    );
    // Step 0: the policy is the reference (same seed), so every log-ratio is 0 and -log σ(0) = ln 2.
    assert.ok(Math.abs(((evals[0] as Record<string, number>).eval_loss as number) - Math.LN2) < 1e-6);
    assert.equal((evals[0] as Record<string, number>)['eval_rewards/margins'], 0);
  });

  test('evaluation requested without evaluation pairs is a warning', async () => {
    const log: string[] = [];
    await run(config({ max_steps: 1, eval_strategy: 'steps' }), makePairs(4, 4), { log });
    assert.ok(
      log.some((l) => /evaluation is requested but there are no evaluation pairs/.test(l)),
      log.join('\n'),
    );
  });

  test('eval_split_size holds out a seeded subset: a fraction or a count, disjoint from training, the rest in order', () => {
    const items = Array.from({ length: 10 }, (_, i) => i);
    const a = holdOut(items, 0.2, 42);
    assert.equal(a.heldOut.length, 2);
    assert.equal(a.kept.length, 8);
    assert.deepEqual(
      [...a.kept, ...a.heldOut].sort((x, y) => x - y),
      items,
    );
    assert.deepEqual(
      a.kept,
      [...a.kept].sort((x, y) => x - y),
    );
    assert.deepEqual(holdOut(items, 0.2, 42), a, 'the same seed holds out the same pairs');
    assert.equal(holdOut(items, 3, 42).heldOut.length, 3);
    assert.throws(() => holdOut(items, 10, 42), /both need at least one/);
  });
});

describe('AdamW with bf16 parameters', () => {
  test('updates accumulate in float32 master weights instead of rounding away', () => {
    // A bf16 weight of 1.0 has neighbours 1 − 2⁻⁸ and 1 + 2⁻⁷: Adam's first steps move it by ≈ lr = 1e-4,
    // far below half an ulp, so without master weights it stays 1.0 forever. With them, after
    // 100 steps of a constant gradient 1 (Adam's step is then exactly lr each step: m̂ = v̂^½ = 1),
    // the master is 1 − 100·1e-4·(1/(1 + 1e-8)) ≈ 0.99 and the weight rounds to bf16(0.99) = 0.98828125.
    const p = torch.ones([4], { dtype: 'bfloat16', requiresGrad: true });
    const opt = new AdamW([p], { lr: 1e-4, weightDecay: 0 });
    for (let i = 0; i < 100; i++) {
      p.grad = torch.onesLike(p);
      opt.step();
      opt.zeroGrad();
    }
    assert.deepEqual(Array.from(p.detach().toArray() as Float32Array), [0.98828125, 0.98828125, 0.98828125, 0.98828125]);
    const master = opt.stateDict().tensors.get('master.0');
    assert.ok(master);
    const value = master.toArray()[0] as number;
    assert.ok(Math.abs(value - 0.99) < 1e-5, `master ${value}`);
    // The master weights travel with the state dict, so resume is exact.
    const q = torch.ones([4], { dtype: 'bfloat16', requiresGrad: true });
    const restored = new AdamW([q], { lr: 1e-4, weightDecay: 0 });
    restored.loadStateDict(opt.stateDict());
    p.grad = torch.onesLike(p);
    q.grad = torch.onesLike(q);
    opt.step();
    restored.step();
    assert.deepEqual(restored.stateDict().tensors.get('master.0')?.toArray(), opt.stateDict().tensors.get('master.0')?.toArray());
    opt.dispose();
    restored.dispose();
  });
});

describe('progress off a terminal', () => {
  test('plain progress lines for steps and phases, at most one per interval, nothing when quiet', async () => {
    const { ProgressReporter } = await import('../src/train/progress.js');
    const lines: string[] = [];
    // process.stderr is not a TTY under the test runner, so this is the plain-line path.
    const every0 = new ProgressReporter({ totalSteps: 4, log: (l) => lines.push(l), quiet: false, startStep: 0, plainEveryMs: 0 });
    every0.step(1, { loss: 0.5, accuracy: 0.75, tokensPerSecond: 100 });
    every0.phase('evaluation at step 1:', 8, 16);
    assert.match(lines[0] as string, /^progress: step 1\/4 \(25%\) loss 0\.5000 acc 0\.75 100 tok\/s ETA /);
    assert.equal(lines[1], 'progress: evaluation at step 1: 8/16');
    const hourly = new ProgressReporter({ totalSteps: 4, log: (l) => lines.push(l), quiet: false, startStep: 0, plainEveryMs: 3.6e6 });
    hourly.step(1, { loss: 0.5, accuracy: 0.75, tokensPerSecond: 100 });
    hourly.phase('evaluation:', 8, 16);
    hourly.phase('evaluation:', 16, 16); // a phase's last report always prints
    assert.deepEqual(lines.slice(2), ['progress: evaluation: 16/16']);
    const quiet = new ProgressReporter({ totalSteps: 4, log: (l) => lines.push(l), quiet: true, startStep: 0, plainEveryMs: 0 });
    quiet.step(1, { loss: 0.5, accuracy: 0.75, tokensPerSecond: 100 });
    assert.equal(lines.length, 3);
  });
});
