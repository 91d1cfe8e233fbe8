// TensorBoard event files: CRC-32C against published check values, the TFRecord framing and
// Event protos parsed back by a reader written here from the format description, and the files
// read by TensorBoard's own Python reader (skipped when no Python with `tensorboard` is found).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { crc32c, maskedCrc32c } from '../src/report/tensorboard/crc32c.js';
import { defaultLoggingDir, TensorBoardWriter, tensorBoardTags } from '../src/report/tensorboard/tensorboard-writer.js';
import { tfRecord } from '../src/report/tensorboard/tfrecord.js';

let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'alpha-dpo-tensorboard-'));
});
after(async () => rm(root, { recursive: true, force: true }));

// ---- a reader written from the format description (TFRecord + protobuf wire format) ----

interface ReadEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  values: { tag: string; value: number }[];
}

function readVarint(b: Buffer, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[at++] as number;
    v |= BigInt(byte & 0x7f) << shift;
    shift += 7n;
    if (byte < 0x80) return [v, at];
  }
}

// Splits a message into (field, wire type, value) entries; value is a Buffer for length-delimited fields.
function fields(b: Buffer): { field: number; wire: number; value: Buffer | bigint }[] {
  const out: { field: number; wire: number; value: Buffer | bigint }[] = [];
  for (let at = 0; at < b.length; ) {
    const [key, next] = readVarint(b, at);
    at = next;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, n] = readVarint(b, at);
      out.push({ field, wire, value: v });
      at = n;
    } else if (wire === 1) {
      out.push({ field, wire, value: b.subarray(at, at + 8) });
      at += 8;
    } else if (wire === 5) {
      out.push({ field, wire, value: b.subarray(at, at + 4) });
      at += 4;
    } else if (wire === 2) {
      const [len, n] = readVarint(b, at);
      out.push({ field, wire, value: b.subarray(n, n + Number(len)) });
      at = n + Number(len);
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}

function readEventFile(bytes: Buffer): ReadEvent[] {
  const events: ReadEvent[] = [];
  for (let at = 0; at < bytes.length; ) {
    const header = bytes.subarray(at, at + 8);
    const length = Number(header.readBigUInt64LE(0));
    assert.equal(bytes.readUInt32LE(at + 8), maskedCrc32c(header), 'length CRC');
    const data = bytes.subarray(at + 12, at + 12 + length);
    assert.equal(bytes.readUInt32LE(at + 12 + length), maskedCrc32c(data), 'data CRC');
    at += 16 + length;
    const event: ReadEvent = { wallTime: Number.NaN, step: 0, values: [] };
    for (const f of fields(data)) {
      if (f.field === 1) event.wallTime = (f.value as Buffer).readDoubleLE(0);
      else if (f.field === 2) event.step = Number(f.value as bigint);
      else if (f.field === 3) event.fileVersion = (f.value as Buffer).toString('utf8');
      else if (f.field === 5) {
        for (const v of fields(f.value as Buffer)) {
          let tag = '';
          let value = Number.NaN;
          for (const g of fields(v.value as Buffer)) {
            if (g.field === 1) tag = (g.value as Buffer).toString('utf8');
            if (g.field === 2) value = (g.value as Buffer).readFloatLE(0);
          }
          event.values.push({ tag, value });
        }
      }
    }
    events.push(event);
  }
  return events;
}

describe('CRC-32C', () => {
  test('the standard check value and RFC 3720 (iSCSI) test vectors', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283); // the CRC catalogue's check value for CRC-32C
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43); // RFC 3720 B.4: 32 bytes of 0xff
    assert.equal(crc32c(Buffer.from(Array.from({ length: 32 }, (_, i) => i))), 0x46dd794e); // RFC 3720 B.4: 0..31
  });

  test('masked form by hand: rotr15(0xE3069283) = 0x2507C60D, + 0xA282EAD8 = 0xC78AB0E5', () => {
    assert.equal(maskedCrc32c(Buffer.from('123456789')), 0xc78ab0e5);
  });

  test('a TFRecord frame: 8-byte little-endian length, its masked CRC, the data, the data’s masked CRC', () => {
    const frame = tfRecord(Buffer.from('abc'));
    assert.equal(frame.length, 8 + 4 + 3 + 4);
    assert.equal(frame.readBigUInt64LE(0), 3n);
    assert.equal(frame.readUInt32LE(8), maskedCrc32c(Buffer.from([3, 0, 0, 0, 0, 0, 0, 0])));
    assert.equal(frame.subarray(12, 15).toString(), 'abc');
    assert.equal(frame.readUInt32LE(15), maskedCrc32c(Buffer.from('abc')));
  });
});

describe('TensorBoardWriter', () => {
  test("transformers' tag names: eval_x → eval/x, others → train/x, step and non-numbers left out", () => {
    assert.deepEqual(
      tensorBoardTags({ step: 4, loss: 0.5, 'rewards/chosen': 1, eval_loss: 0.7, 'eval_rewards/accuracies': 1, test_loss: 2, kind: 'log' }),
      [
        ['train/loss', 0.5],
        ['train/rewards/chosen', 1],
        ['eval/loss', 0.7],
        ['eval/rewards/accuracies', 1],
        ['test/loss', 2],
      ],
    );
  });

  test("transformers' default logging dir: output_dir/runs/<Mon DD_HH-MM-SS>_<host>", () => {
    const dir = defaultLoggingDir('/out', new Date(2026, 11, 1, 9, 5, 7));
    assert.match(dir, /^\/out\/runs\/Dec01_09-05-07_.+$/);
  });

  let logDir = '';
  const wallMs = 1_700_000_000_000;
  test('writes a file-version record, then one event per logged step, readable back', async () => {
    logDir = join(root, 'runs', 'run-a');
    const writer = await TensorBoardWriter.open(logDir, wallMs);
    assert.match(writer.path, /events\.out\.tfevents\.1700000000\..+\.\d+\.\d+$/);
    writer.addLogRecord({ step: 1, loss: 0.6875, 'rewards/accuracies': 0.5, learning_rate: 5e-7 }, wallMs + 1000);
    writer.addLogRecord({ step: 2, loss: 0.25, 'rewards/accuracies': 1, learning_rate: 1e-6 }, wallMs + 2000);
    writer.addLogRecord({ step: 2, eval_loss: 0.3, 'eval_rewards/accuracies': 0.75 }, wallMs + 2500);
    writer.addScalars(3, { 'train/loss': Number.NaN }, wallMs + 3000);
    writer.close();
    const files = await readdir(logDir);
    assert.equal(files.length, 1);
    const events = readEventFile(await readFile(join(logDir, files[0] as string)));
    assert.equal(events.length, 5);
    assert.equal(events[0]?.fileVersion, 'brain.Event:2');
    assert.equal(events[0]?.wallTime, 1_700_000_000);
    assert.deepEqual(
      events.slice(1).map((e) => [e.step, e.wallTime, e.values.map((v) => v.tag)]),
      [
        [1, 1_700_000_001, ['train/loss', 'train/rewards/accuracies', 'train/learning_rate']],
        [2, 1_700_000_002, ['train/loss', 'train/rewards/accuracies', 'train/learning_rate']],
        [2, 1_700_000_002.5, ['eval/loss', 'eval/rewards/accuracies']],
        [3, 1_700_000_003, ['train/loss']],
      ],
    );
    // simple_value is float32: 0.6875 = 11/16 is exact in it, 1e-6 becomes Math.fround(1e-6)
    assert.equal(events[1]?.values[0]?.value, 0.6875);
    assert.equal(events[2]?.values[2]?.value, Math.fround(1e-6));
    assert.ok(Number.isNaN(events[4]?.values[0]?.value));
  });

  test("TensorBoard's own reader (Python tensorboard package) reads the same scalars", (t) => {
    const candidates = [process.env.TENSORBOARD_PYTHON, 'python3'].filter((p): p is string => !!p);
    const python = candidates.find((p) => spawnSync(p, ['-c', 'import tensorboard'], { stdio: 'ignore' }).status === 0);
    if (!python) {
      t.skip(`no Python with the tensorboard package (tried ${candidates.join(', ')}); set TENSORBOARD_PYTHON to one`);
      return;
    }
    const script = [
      'import json, math, sys',
      'from tensorboard.backend.event_processing.event_accumulator import EventAccumulator',
      'ea = EventAccumulator(sys.argv[1]); ea.Reload()',
      'out = {tag: [[e.step, e.wall_time, None if math.isnan(e.value) else e.value] for e in ea.Scalars(tag)] for tag in ea.Tags()["scalars"]}',
      'print(json.dumps(out, sort_keys=True))',
    ].join('\n');
    const run = spawnSync(python, ['-c', script, logDir], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const scalars = JSON.parse(run.stdout) as Record<string, [number, number, number | null][]>;
    assert.deepEqual(Object.keys(scalars), [
      'eval/loss',
      'eval/rewards/accuracies',
      'train/learning_rate',
      'train/loss',
      'train/rewards/accuracies',
    ]);
    assert.deepEqual(scalars['train/loss'], [
      [1, 1_700_000_001, 0.6875],
      [2, 1_700_000_002, 0.25],
      [3, 1_700_000_003, null],
    ]);
    assert.deepEqual(scalars['eval/rewards/accuracies'], [[2, 1_700_000_002.5, 0.75]]);
  });
});

describe('report_to: tensorboard in the trainer', () => {
  test('every record of metrics.jsonl is an event under output_dir/runs/, with transformers tag names', async () => {
    const { PRESETS, randomInit, resolveTrainConfig, torch, trainPreferences } = await import('../src/index.js');
    type Pair = import('../src/index.js').TokenizedPair;
    const out = await mkdtemp(join(tmpdir(), 'alpha-dpo-tb-train-'));
    try {
      torch.manualSeed(3);
      const policy = randomInit(PRESETS['llama-tiny']);
      torch.manualSeed(3);
      const reference = randomInit(PRESETS['llama-tiny']);
      const pair = (i: number) => ({
        chosen: { prompt: Int32Array.from([5, 6, 7 + i]), completion: Int32Array.from([8, 9]) },
        rejected: { prompt: Int32Array.from([5, 6, 7 + i]), completion: Int32Array.from([10]) },
        source: { file: 'generated', line: i + 1 },
        metadata: {},
      });
      const pairs = Array.from({ length: 4 }, (_, i) => pair(i) as unknown as Pair);
      const config = resolveTrainConfig({
        loss_type: 'sigmoid',
        beta: 0.1,
        per_device_train_batch_size: 2,
        max_steps: 3,
        logging_steps: 1,
        eval_steps: 3,
        save_strategy: 'no',
        report_to: 'tensorboard',
        output_dir: out,
      });
      await trainPreferences(config, { policy, reference, train: pairs, eval: pairs }, { quiet: true, log: () => {} });
      policy.dispose();
      reference.dispose();
      const runs = await readdir(join(out, 'runs'));
      assert.equal(runs.length, 1);
      const files = (await readdir(join(out, 'runs', runs[0] as string))).filter((f) => f.startsWith('events.out.tfevents.'));
      assert.equal(files.length, 1);
      const events = readEventFile(await readFile(join(out, 'runs', runs[0] as string, files[0] as string)));
      const records = (await readFile(join(out, 'metrics.jsonl'), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, number>);
      const losses = events.flatMap((e) => e.values.filter((v) => v.tag === 'train/loss').map((v) => [e.step, v.value]));
      const expected = records.filter((r) => 'loss' in r).map((r) => [r.step, Math.fround(r.loss as number)]);
      assert.deepEqual(losses, expected);
      const evalLoss = events.flatMap((e) => e.values.filter((v) => v.tag === 'eval/loss').map(() => e.step));
      assert.deepEqual(evalLoss, [3]);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  });
});
