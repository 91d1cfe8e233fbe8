// safetensors read/write. Expected values come from the format specification
// (https://github.com/huggingface/safetensors#format): an 8-byte little-endian header length, a
// JSON header, then little-endian row-major data; IEEE-754 bit patterns are written out by hand.
// Round trips compare raw bytes with the tensors that were saved. No Python is involved.
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  loadSafetensors,
  loadSafetensorsDir,
  readSafetensorsHeader,
  SafetensorsError,
  saveSafetensors,
  saveSafetensorsSharded,
  Tensor,
  torch,
} from '../src/index.js';
import { makeTempDir, removeTempDir } from './helpers/tmp-dir.js';

let root: string;
let counter = 0;
before(async () => {
  root = await makeTempDir('alpha-dpo-safetensors-');
});
after(() => removeTempDir(root));

/** A fresh path (or folder) in the temp dir. */
const fresh = (name = 'file.safetensors'): string => join(root, `${++counter}-${name}`);

function disposeAll(...collections: Iterable<Tensor>[]): void {
  for (const c of collections) for (const t of c) t.dispose();
}

/** A copy of a tensor's raw bytes (row-major, native = little-endian). */
function rawBytes(t: Tensor): Uint8Array {
  const c = t.contiguous();
  try {
    return new Uint8Array(c.dataView()).slice();
  } finally {
    c.dispose();
  }
}

/** A tensor built from raw 16-bit patterns (float16/bfloat16), so the test controls every bit. */
function fromBits16(dtype: 'float16' | 'bfloat16', bits: number[]): Tensor {
  const t = torch.empty([bits.length], { dtype });
  new Uint16Array(t.dataView()).set(bits);
  return t;
}

const hex = (s: string): Uint8Array => Uint8Array.from(s.split(/\s+/).filter(Boolean), (b) => Number.parseInt(b, 16));

/** Assembles a file as the spec describes: u64 LE length, the JSON padded with spaces to `pad`, data. */
function assemble(header: Uint8Array | string | object, data: Uint8Array = new Uint8Array(0), pad = 8): Uint8Array {
  const raw =
    header instanceof Uint8Array ? Buffer.from(header) : Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const jsonBytes = Buffer.concat([raw, Buffer.alloc((pad - (raw.length % pad)) % pad, 0x20)]);
  const out = Buffer.alloc(8 + jsonBytes.length + data.length);
  out.writeBigUInt64LE(BigInt(jsonBytes.length), 0);
  jsonBytes.copy(out, 8);
  out.set(data, 8 + jsonBytes.length);
  return out;
}

async function writeRaw(bytes: Uint8Array): Promise<string> {
  const path = fresh();
  await writeFile(path, bytes);
  return path;
}

/** Asserts that `promise` rejects with a SafetensorsError naming `path` and matching `pattern`. */
async function rejectsWith(promise: Promise<unknown>, pattern: RegExp, path: string, tensor?: string): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof SafetensorsError, `expected a SafetensorsError, got ${String(e)}`);
    assert.match(e.message, pattern);
    assert.ok(e.message.includes(path), `message should name the file: ${e.message}`);
    if (tensor !== undefined) assert.ok(e.message.includes(`'${tensor}'`), `message should name tensor '${tensor}': ${e.message}`);
    return true;
  });
}

describe('round trip', () => {
  test('every supported dtype, bit-exact, with 0-d and empty tensors', async () => {
    // Values: the originals themselves. Bit patterns for the half types are chosen by hand:
    // f16 0x3C00 = 1, 0x7BFF = 65504 (max), 0x0001 = 2^-24 (subnormal), 0x8000 = -0, 0x7C00 = inf,
    // 0x7E00 = NaN, 0x3555 ≈ 1/3; bf16 0x3F80 = 1, 0x4049 = 3.140625, 0xFF80 = -inf,
    // 0x0001 = smallest subnormal, 0x7F7F = max, 0x7FC1 = a NaN with payload.
    const tensors = new Map<string, Tensor>([
      ['f32', torch.tensor([0, -0, 1.5, 2 ** -149, 3.4028234663852886e38, Number.NEGATIVE_INFINITY, Number.NaN], { dtype: 'float32' })],
      ['f64', torch.tensor([0.1, -1e300, 2 ** -1074, Math.PI], { dtype: 'float64' })],
      ['f16', fromBits16('float16', [0x3c00, 0x7bff, 0x0001, 0x8000, 0x7c00, 0x7e00, 0x3555])],
      ['bf16', fromBits16('bfloat16', [0x3f80, 0x4049, 0xff80, 0x0001, 0x7f7f, 0x7fc1])],
      ['i64', torch.tensor([2n ** 40n + 5n, -(2n ** 62n), 2n ** 63n - 1n, -(2n ** 63n)])],
      ['i32', torch.tensor([2 ** 31 - 1, -(2 ** 31), 0, -7], { dtype: 'int32' })],
      ['u8', torch.tensor([0, 255, 128, 1], { dtype: 'uint8' })],
      ['bool', torch.tensor([true, false, false, true])],
      ['scalar', torch.tensor(3.5)],
      ['empty', torch.empty([0, 3], { dtype: 'float32' })],
      ['empty-i64', torch.empty([2, 0], { dtype: 'int64' })],
      ['grid', torch.arange(24, { dtype: 'float64' }).reshape([2, 3, 4])],
    ]);
    const path = fresh();
    await saveSafetensors(path, tensors, { metadata: { format: 'pt' } });
    const loaded = await loadSafetensors(path);
    try {
      assert.deepEqual(loaded.metadata, { format: 'pt' });
      assert.deepEqual([...loaded.tensors.keys()].sort(), [...tensors.keys()].sort());
      for (const [name, t] of tensors) {
        const got = loaded.tensors.get(name) as Tensor;
        assert.equal(got.dtype, t.dtype, `${name}: dtype`);
        assert.deepEqual([...got.shape], [...t.shape], `${name}: shape`);
        assert.deepEqual(rawBytes(got), rawBytes(t), `${name}: bytes`);
      }
      assert.equal((loaded.tensors.get('i64') as Tensor).toArray()[0], 2n ** 40n + 5n);
      assert.deepEqual((loaded.tensors.get('bool') as Tensor).tolist(), [true, false, false, true]);
      assert.equal((loaded.tensors.get('scalar') as Tensor).item(), 3.5);
    } finally {
      disposeAll(tensors.values(), loaded.tensors.values());
    }
  });

  test('non-contiguous tensors and plain-object input are saved in row-major order', async () => {
    const base = torch.arange(6, { dtype: 'int32' }).reshape([2, 3]);
    const transposed = base.transpose(0, 1); // [[0, 3], [1, 4], [2, 5]]
    assert.equal(transposed.isContiguous, false);
    const path = fresh();
    await saveSafetensors(path, { t: transposed });
    const { tensors } = await loadSafetensors(path);
    try {
      const got = tensors.get('t') as Tensor;
      assert.deepEqual([...got.shape], [3, 2]);
      assert.deepEqual(got.tolist(), [
        [0, 3],
        [1, 4],
        [2, 5],
      ]);
    } finally {
      disposeAll([base, transposed], tensors.values());
    }
  });

  test('names (list and predicate) and the dtype cast option', async () => {
    const tensors = {
      a: torch.tensor([1.5, -2], { dtype: 'bfloat16' }),
      b: torch.tensor([7n]),
      c: torch.tensor([0.25], { dtype: 'float16' }),
    };
    const path = fresh();
    await saveSafetensors(path, tensors);
    const some = await loadSafetensors(path, { names: ['c'] });
    const pred = await loadSafetensors(path, { names: (n) => n !== 'c' });
    const cast = await loadSafetensors(path, { dtype: 'float64' });
    try {
      assert.deepEqual([...some.tensors.keys()], ['c']);
      assert.deepEqual([...pred.tensors.keys()].sort(), ['a', 'b']);
      // Floats widen exactly to float64; the int64 tensor keeps its dtype.
      assert.equal(cast.tensors.get('a')?.dtype, 'float64');
      assert.deepEqual(cast.tensors.get('a')?.toNumbers(), [1.5, -2]);
      assert.equal(cast.tensors.get('c')?.dtype, 'float64');
      assert.equal(cast.tensors.get('b')?.dtype, 'int64');
      await rejectsWith(loadSafetensors(path, { names: ['a', 'nope'] }), /not found/, path, 'nope');
      await rejectsWith(loadSafetensors(path, { dtype: 'int32' }), /floating-point/, path);
    } finally {
      disposeAll(Object.values(tensors), some.tensors.values(), pred.tensors.values(), cast.tensors.values());
    }
  });
});

describe('byte layout against the specification', () => {
  test('a hand-assembled file loads to the expected values', async () => {
    // Data section, little-endian, by hand:
    //   ids    I64 [2]    [0,16)  2^40+5 = 0x0000010000000005, -3 = 0xFFFFFFFFFFFFFFFD
    //   weight F32 [2,2]  [16,32) 1.5 = 0x3FC00000, -2 = 0xC0000000, 0.25 = 0x3E800000, 2^-149 = 0x00000001
    //   h      BF16 [2]   [32,36) 1.5 = 0x3FC0, -3.140625 = 0xC049
    //   f      F16 [1]    [36,38) 0x3555 = 1365/4096 = 0.333251953125
    //   mask   BOOL [3]   [38,41) 1, 0, 1
    //   b      U8 []      [41,42) 7
    const data = hex(`
      05 00 00 00 00 01 00 00  fd ff ff ff ff ff ff ff
      00 00 c0 3f  00 00 00 c0  00 00 80 3e  01 00 00 00
      c0 3f 49 c0
      55 35
      01 00 01
      07`);
    // Entries deliberately listed in a different order from their data.
    const header = {
      b: { dtype: 'U8', shape: [], data_offsets: [41, 42] },
      __metadata__: { format: 'pt', note: 'hand-made' },
      weight: { dtype: 'F32', shape: [2, 2], data_offsets: [16, 32] },
      mask: { dtype: 'BOOL', shape: [3], data_offsets: [38, 41] },
      ids: { dtype: 'I64', shape: [2], data_offsets: [0, 16] },
      f: { dtype: 'F16', shape: [1], data_offsets: [36, 38] },
      h: { dtype: 'BF16', shape: [2], data_offsets: [32, 36] },
    };
    const path = await writeRaw(assemble(header, data));
    const { tensors, metadata } = await loadSafetensors(path);
    try {
      assert.deepEqual(metadata, { format: 'pt', note: 'hand-made' });
      assert.deepEqual([...tensors.keys()], ['ids', 'weight', 'h', 'f', 'mask', 'b'], 'data order');
      const get = (n: string) => tensors.get(n) as Tensor;
      assert.deepEqual([...get('ids').toArray()], [2n ** 40n + 5n, -3n]);
      assert.equal(get('weight').dtype, 'float32');
      assert.deepEqual(get('weight').tolist(), [
        [1.5, -2],
        [0.25, 2 ** -149],
      ]);
      assert.equal(get('h').dtype, 'bfloat16');
      assert.deepEqual(get('h').toNumbers(), [1.5, -3.140625]);
      assert.equal(get('f').dtype, 'float16');
      assert.deepEqual(get('f').toNumbers(), [0.333251953125]);
      assert.deepEqual(get('mask').tolist(), [true, false, true]);
      assert.deepEqual(get('b').shape, []);
      assert.equal(get('b').dtype, 'uint8');
      assert.equal(get('b').item(), 7);
    } finally {
      disposeAll(tensors.values());
    }
    // An unpadded header is valid too (padding is a writer convention).
    const unpadded = await writeRaw(assemble({ x: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, hex('2a'), 1));
    const second = await loadSafetensors(unpadded);
    assert.equal(second.tensors.get('x')?.item(), 42);
    disposeAll(second.tensors.values());
  });

  test('the writer produces exactly the specified bytes', async () => {
    const tensors = {
      b: torch.tensor([1, -2], { dtype: 'float32' }),
      a: torch.tensor([1, 2, 3], { dtype: 'uint8' }),
      step: torch.tensor(5n),
    };
    const path = fresh();
    await saveSafetensors(path, tensors, { metadata: { format: 'pt' } });
    // Layout: largest item size first, then by name: step (I64) [0,8), b (F32) [8,16), a (U8) [16,19).
    // The JSON is 195 bytes, padded with 5 spaces to 200 = 0xC8 so data starts at 208, a multiple of 8.
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"step":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
      '"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"a":{"dtype":"U8","shape":[3],"data_offsets":[16,19]}}';
    assert.equal(json.length, 195);
    const expected = Buffer.concat([
      hex('c8 00 00 00 00 00 00 00'),
      Buffer.from(`${json}     `, 'ascii'),
      hex('05 00 00 00 00 00 00 00'), // 5n
      hex('00 00 80 3f  00 00 00 c0'), // 1.0f, -2.0f
      hex('01 02 03'),
    ]);
    assert.deepEqual(new Uint8Array(await readFile(path)), new Uint8Array(expected));

    // No tensors, no metadata: "{}" padded to 8 bytes.
    const emptyPath = fresh();
    await saveSafetensors(emptyPath, new Map());
    assert.deepEqual(
      new Uint8Array(await readFile(emptyPath)),
      new Uint8Array(Buffer.concat([hex('08 00 00 00 00 00 00 00'), Buffer.from('{}      ')])),
    );
    const empty = await loadSafetensors(emptyPath);
    assert.equal(empty.tensors.size, 0);
    disposeAll(Object.values(tensors));
  });

  test('readSafetensorsHeader reports the layout without loading data', async () => {
    // An I16 tensor is valid safetensors that we cannot load: inspecting works, loading it fails.
    const header = {
      __metadata__: { k: 'v' },
      w: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      s: { dtype: 'I16', shape: [2], data_offsets: [8, 12] },
    };
    const path = await writeRaw(assemble(header, new Uint8Array(12)));
    const h = await readSafetensorsHeader(path);
    assert.deepEqual(h.metadata, { k: 'v' });
    assert.equal(h.headerLength % 8, 0);
    assert.equal(h.dataStart, 8 + h.headerLength);
    assert.equal(h.dataLength, 12);
    assert.deepEqual([...h.tensors.keys()], ['w', 's']);
    const s = h.tensors.get('s');
    assert.equal(s?.dtype, 'I16');
    assert.equal(s?.torchDtype, undefined);
    assert.deepEqual(s?.dataOffsets, [8, 12]);
    assert.equal(h.tensors.get('w')?.torchDtype, 'float32');
    await rejectsWith(loadSafetensors(path), /dtype I16 is not supported/, path, 's');
    const only = await loadSafetensors(path, { names: ['w'] });
    assert.deepEqual(only.tensors.get('w')?.toNumbers(), [0, 0]);
    disposeAll(only.tensors.values());
  });
});

describe('malformed files give a SafetensorsError naming the problem', () => {
  const f32 = (begin: number, end: number, shape = [(end - begin) / 4]) => ({ dtype: 'F32', shape, data_offsets: [begin, end] });
  const cases: { name: string; bytes: () => Uint8Array; pattern: RegExp; tensor?: string }[] = [
    { name: 'file shorter than 8 bytes', bytes: () => hex('01 02 03 04 05'), pattern: /5 bytes long, shorter than the 8-byte/ },
    {
      name: 'header length beyond the file',
      bytes: () => Buffer.concat([hex('e8 03 00 00 00 00 00 00'), Buffer.from('{}        ')]),
      pattern: /header length 1000 is larger than the file/,
    },
    {
      name: 'header length over 100 MB',
      bytes: () => Buffer.concat([hex('00 00 00 00 00 01 00 00'), Buffer.from('{}      ')]),
      pattern: /exceeds the 100 MB limit/,
    },
    { name: 'header not JSON', bytes: () => assemble('{"w": {"dtype": '), pattern: /not valid JSON/ },
    { name: 'header not an object', bytes: () => assemble('[1, 2]'), pattern: /not a JSON object but an array/ },
    { name: 'header not UTF-8', bytes: () => assemble(hex('7b ff 7d')), pattern: /not valid UTF-8/ },
    {
      name: 'entry without dtype',
      bytes: () => assemble({ w: { shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      pattern: /no "dtype"/,
      tensor: 'w',
    },
    {
      name: 'entry without data_offsets',
      bytes: () => assemble({ w: { dtype: 'F32', shape: [1] } }, new Uint8Array(4)),
      pattern: /no "data_offsets"/,
      tensor: 'w',
    },
    {
      name: 'dtype not a string',
      bytes: () => assemble({ w: { dtype: 32, shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)),
      pattern: /"dtype" must be a string/,
      tensor: 'w',
    },
    {
      name: 'shape not an array',
      bytes: () => assemble({ w: { dtype: 'F32', shape: '1', data_offsets: [0, 4] } }, new Uint8Array(4)),
      pattern: /"shape" must be an array/,
      tensor: 'w',
    },
    {
      name: 'negative shape',
      bytes: () => assemble({ w: f32(0, 4, [-1]) }, new Uint8Array(4)),
      pattern: /"shape" must hold non-negative integers/,
      tensor: 'w',
    },
    {
      name: 'non-integer shape',
      bytes: () => assemble({ w: f32(0, 4, [1.5]) }, new Uint8Array(4)),
      pattern: /"shape" must hold non-negative integers/,
      tensor: 'w',
    },
    {
      name: 'data_offsets of the wrong form',
      bytes: () => assemble({ w: { dtype: 'F32', shape: [1], data_offsets: [0] } }, new Uint8Array(4)),
      pattern: /"data_offsets" must be \[begin, end\]/,
      tensor: 'w',
    },
    {
      name: 'data_offsets not matching shape × item size',
      bytes: () => assemble({ w: f32(0, 4, [2]) }, new Uint8Array(4)),
      pattern: /span 4 bytes but F32 with shape \[2\] needs 8 bytes/,
      tensor: 'w',
    },
    {
      name: 'truncated data section',
      bytes: () => assemble({ w: f32(0, 16) }, new Uint8Array(8)),
      pattern: /file is truncated/,
      tensor: 'w',
    },
    {
      name: 'overlapping tensors',
      bytes: () => assemble({ a: f32(0, 8), b: f32(4, 12) }, new Uint8Array(12)),
      pattern: /overlap tensor 'a'/,
      tensor: 'b',
    },
    { name: 'hole between tensors', bytes: () => assemble({ a: f32(0, 4), b: f32(8, 12) }, new Uint8Array(12)), pattern: /hole/ },
    { name: 'bytes after the last tensor', bytes: () => assemble({ a: f32(0, 4) }, new Uint8Array(8)), pattern: /4 trailing bytes/ },
    {
      name: 'unknown dtype',
      bytes: () => assemble({ w: { dtype: 'Q7', shape: [1], data_offsets: [0, 1] } }, new Uint8Array(1)),
      pattern: /unknown dtype 'Q7'/,
      tensor: 'w',
    },
    {
      name: 'unsupported dtype',
      bytes: () => assemble({ w: { dtype: 'F8_E4M3', shape: [2], data_offsets: [0, 2] } }, new Uint8Array(2)),
      pattern: /dtype F8_E4M3 is not supported/,
      tensor: 'w',
    },
    {
      name: 'non-string metadata',
      bytes: () => assemble({ __metadata__: { epoch: 3 } }),
      pattern: /"__metadata__" value for key 'epoch' must be a string/,
    },
    {
      name: 'BOOL byte other than 0 or 1',
      bytes: () => assemble({ m: { dtype: 'BOOL', shape: [2], data_offsets: [0, 2] } }, hex('01 02')),
      pattern: /BOOL bytes must be 0 or 1/,
      tensor: 'm',
    },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const path = await writeRaw(c.bytes());
      await rejectsWith(loadSafetensors(path), c.pattern, path, c.tensor);
    });
  }

  test('a load that fails part-way disposes the tensors it had already loaded', async () => {
    const bytes = assemble({ w: f32(0, 8), m: { dtype: 'BOOL', shape: [2], data_offsets: [8, 10] } }, hex('00 00 80 3f 00 00 00 40 01 05'));
    const path = await writeRaw(bytes);
    const live = torch.liveTensorCount();
    await rejectsWith(loadSafetensors(path), /BOOL bytes must be 0 or 1/, path, 'm');
    assert.equal(torch.liveTensorCount(), live);
  });

  test('readSafetensorsHeader validates the same way', async () => {
    const path = await writeRaw(assemble({ a: f32(0, 8), b: f32(4, 12) }, new Uint8Array(12)));
    await rejectsWith(readSafetensorsHeader(path), /overlap/, path);
  });
});

describe('saving', () => {
  test('rejects reserved and duplicate names, bad metadata and non-tensors', async () => {
    const t = torch.tensor([1]);
    try {
      const path = fresh();
      await rejectsWith(saveSafetensors(path, { __metadata__: t }), /reserved/, path, '__metadata__');
      await rejectsWith(
        saveSafetensors(path, [
          ['x', t],
          ['x', t],
        ]),
        /duplicate tensor name/,
        path,
        'x',
      );
      await rejectsWith(saveSafetensors(path, { x: t }, { metadata: { n: 1 as unknown as string } }), /metadata value for key 'n'/, path);
      await rejectsWith(saveSafetensors(path, { x: [1, 2] as unknown as Tensor }), /not a Tensor/, path, 'x');
      const gone = torch.tensor([2]);
      gone.dispose();
      await rejectsWith(saveSafetensors(path, { x: gone }), /disposed/, path, 'x');
      assert.deepEqual(
        (await readdir(root)).filter((f) => f.startsWith(`${counter}-`)),
        [],
        'nothing written',
      );
    } finally {
      t.dispose();
    }
  });

  test('atomic: no temporary file remains; a failed save leaves the old file intact', async () => {
    const folder = fresh('atomic');
    await mkdir(folder);
    const path = join(folder, 'x.safetensors');
    const t = torch.tensor([1, 2, 3]);
    await saveSafetensors(path, { t });
    assert.deepEqual(await readdir(folder), ['x.safetensors']);
    const before = await readFile(path);

    // A tensor whose data cannot be read fails halfway through writing the temporary file.
    class FailingTensor extends Tensor {
      override dataView(): ArrayBuffer {
        throw new Error('disk on fire');
      }
    }
    const bad = new FailingTensor(torch.zeros([4]).handle);
    await assert.rejects(saveSafetensors(path, { a: t, b: bad }), /disk on fire/);
    assert.deepEqual(await readdir(folder), ['x.safetensors'], 'temporary file removed');
    assert.deepEqual(await readFile(path), before, 'old file untouched');
    disposeAll([t, bad]);
  });
});

describe('sharded checkpoints', () => {
  // Five 16-byte tensors and one 80-byte tensor, maxShardSize 40. Hugging Face's split, by hand,
  // over names in order (big, layer.0 … layer.4): 'big' exceeds the limit and gets its own shard;
  // then layer.0 + layer.1 = 32 bytes (adding layer.2 would make 48 > 40), layer.2 + layer.3, layer.4.
  const makeTensors = () =>
    new Map<string, Tensor>([
      ['big', torch.arange(20, { dtype: 'float32' })],
      ...[0, 1, 2, 3, 4].map((i): [string, Tensor] => [`layer.${i}`, torch.full([4], i + 0.5, { dtype: 'float32' })]),
    ]);
  const expectedWeightMap = {
    big: 'model-00001-of-00004.safetensors',
    'layer.0': 'model-00002-of-00004.safetensors',
    'layer.1': 'model-00002-of-00004.safetensors',
    'layer.2': 'model-00003-of-00004.safetensors',
    'layer.3': 'model-00003-of-00004.safetensors',
    'layer.4': 'model-00004-of-00004.safetensors',
  };

  test('save with a small maxShardSize, index content, load back', async () => {
    const dir = fresh('sharded');
    const tensors = makeTensors();
    const saved = await saveSafetensorsSharded(dir, tensors, { maxShardSize: 40, metadata: { format: 'pt' } });
    assert.deepEqual(
      saved.files,
      Object.values(expectedWeightMap).filter((f, i, all) => all.indexOf(f) === i),
    );
    assert.equal(saved.totalSize, 80 + 5 * 16);
    assert.deepEqual((await readdir(dir)).sort(), [...saved.files, 'model.safetensors.index.json'].sort());
    const indexText = await readFile(join(dir, 'model.safetensors.index.json'), 'utf8');
    assert.ok(indexText.endsWith('}\n'));
    assert.deepEqual(JSON.parse(indexText), { metadata: { total_size: 160 }, weight_map: expectedWeightMap });
    const shard3 = await readSafetensorsHeader(join(dir, 'model-00003-of-00004.safetensors'));
    assert.deepEqual([...shard3.tensors.keys()], ['layer.2', 'layer.3']);
    assert.deepEqual(shard3.metadata, { format: 'pt' });

    const loaded = await loadSafetensorsDir(dir);
    const part = await loadSafetensorsDir(dir, { names: ['layer.3', 'big'] });
    try {
      assert.deepEqual(loaded.metadata, { format: 'pt' });
      assert.deepEqual([...loaded.tensors.keys()].sort(), [...tensors.keys()].sort());
      for (const [name, t] of tensors) assert.ok(loaded.tensors.get(name)?.equal(t), name);
      assert.deepEqual([...part.tensors.keys()].sort(), ['big', 'layer.3']);
      await rejectsWith(loadSafetensorsDir(dir, { names: ['nope'] }), /not listed in the index/, dir, 'nope');
    } finally {
      disposeAll(tensors.values(), loaded.tensors.values(), part.tensors.values());
    }
  });

  test('single file when everything fits; stale shards of an earlier save are removed', async () => {
    const dir = fresh('resave');
    const tensors = makeTensors();
    await saveSafetensorsSharded(dir, tensors, { maxShardSize: 40 });
    const saved = await saveSafetensorsSharded(dir, tensors);
    assert.deepEqual(saved, { files: ['model.safetensors'], indexFile: undefined, totalSize: 160 });
    assert.deepEqual(await readdir(dir), ['model.safetensors']);
    const loaded = await loadSafetensorsDir(dir);
    try {
      for (const [name, t] of tensors) assert.ok(loaded.tensors.get(name)?.equal(t), name);
    } finally {
      disposeAll(tensors.values(), loaded.tensors.values());
    }
  });

  test('missing shard, wrong index entry, unsafe shard name, empty folder', async () => {
    const dir = fresh('broken');
    const tensors = makeTensors();
    await saveSafetensorsSharded(dir, tensors, { maxShardSize: 40 });
    disposeAll(tensors.values());
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8'));

    await unlink(join(dir, 'model-00003-of-00004.safetensors'));
    await rejectsWith(loadSafetensorsDir(dir), /shard file 'model-00003-of-00004\.safetensors' is missing/, indexPath);

    index.weight_map['layer.0'] = 'model-00004-of-00004.safetensors';
    index.weight_map['layer.2'] = 'model-00004-of-00004.safetensors';
    index.weight_map['layer.3'] = 'model-00004-of-00004.safetensors';
    await writeFile(indexPath, JSON.stringify(index));
    await rejectsWith(loadSafetensorsDir(dir), /does not contain it/, 'model-00004-of-00004.safetensors', 'layer.0');

    index.weight_map['layer.0'] = '../elsewhere.safetensors';
    await writeFile(indexPath, JSON.stringify(index));
    await rejectsWith(loadSafetensorsDir(dir), /must name a shard file in the same folder/, indexPath, 'layer.0');

    const empty = fresh('empty');
    await mkdir(empty);
    await rejectsWith(loadSafetensorsDir(empty), /no model\.safetensors or model\.safetensors\.index\.json/, empty);
  });
});
