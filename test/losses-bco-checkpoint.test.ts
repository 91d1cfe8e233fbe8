// bco_pair's running δ (bco_running_delta) through the trainer's checkpoints: the state lives in
// the AlphaDpoState the trainer saves, so 6 steps straight equal 3 steps, stop, resume, 3 steps.
// (Checked to fail when toJSON() drops the bco field.)
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveTrainConfig, trainPreferences } from '../src/train/index.js';
import { makePairs, tinyModel } from './helpers/tiny-training.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'alpha-dpo-bco-'));
  dirs.push(d);
  return d;
}

const model = tinyModel;

test('bco_running_delta: 6 steps straight equal 3 steps, stop, resume, 3 steps', async () => {
  const settings = {
    loss_type: 'bco_pair',
    beta: 0.5,
    bco_running_delta: true,
    learning_rate: 1e-3,
    per_device_train_batch_size: 2,
    logging_steps: 1,
    seed: 7,
    max_steps: 6,
    save_strategy: 'steps',
    save_steps: 100,
  };
  const pairs = makePairs(12, 3);
  const straight = await trainPreferences(
    resolveTrainConfig({ ...settings, output_dir: await tempDir() }),
    { policy: model(5), reference: model(6), train: pairs },
    { quiet: true },
  );
  const dir = await tempDir();
  const stop = new AbortController();
  await trainPreferences(
    resolveTrainConfig({ ...settings, output_dir: dir }),
    { policy: model(5), reference: model(6), train: pairs },
    { quiet: true, signal: stop.signal, onStep: (step) => step === 3 && stop.abort() },
  );
  const resumed = await trainPreferences(
    resolveTrainConfig({ ...settings, output_dir: dir, resume_from_checkpoint: 'latest' }),
    { policy: model(99), reference: model(6), train: pairs },
    { quiet: true },
  );
  assert.equal(resumed.steps, 6);
  assert.deepEqual(resumed.stepLosses, straight.stepLosses);
});
