// The protocol-buffer messages of a TensorBoard event file, encoded by hand for the few fields
// scalars need (tensorflow/core/util/event.proto, tensorflow/core/framework/summary.proto):
//   Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
//   Summary { repeated Value value = 1; }
//   Value   { string tag = 1; float simple_value = 2; }
// simple_value is the scalar form TensorBoard reads from every writer (PyTorch's SummaryWriter
// and tensorboardX write it too); it is a 32-bit float, like theirs.

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

function varint(value: bigint): number[] {
  const bytes: number[] = [];
  let v = BigInt.asUintN(64, value); // negative int64 is ten bytes of two's complement, as protobuf does
  while (v >= 0x80n) {
    bytes.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  bytes.push(Number(v));
  return bytes;
}

const key = (field: number, wire: number) => varint(BigInt((field << 3) | wire));

function lengthDelimited(field: number, payload: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from(key(field, LENGTH_DELIMITED)), Buffer.from(varint(BigInt(payload.length))), payload]);
}

function fixed64Double(field: number, value: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(value);
  return Buffer.concat([Buffer.from(key(field, FIXED64)), b]);
}

function fixed32Float(field: number, value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(value);
  return Buffer.concat([Buffer.from(key(field, FIXED32)), b]);
}

function summaryValue(tag: string, value: number): Buffer {
  return Buffer.concat([lengthDelimited(1, Buffer.from(tag, 'utf8')), fixed32Float(2, value)]);
}

/** An Event with `file_version` (the first record of every event file: "brain.Event:2"). */
export function fileVersionEvent(wallTime: number, version = 'brain.Event:2'): Buffer {
  return Buffer.concat([fixed64Double(1, wallTime), lengthDelimited(3, Buffer.from(version, 'utf8'))]);
}

/** An Event carrying one Summary with a simple_value per tag. wallTime is in seconds since the epoch. */
export function scalarsEvent(wallTime: number, step: number, scalars: readonly (readonly [string, number])[]): Buffer {
  const summary = Buffer.concat(scalars.map(([tag, value]) => lengthDelimited(1, summaryValue(tag, value))));
  return Buffer.concat([
    fixed64Double(1, wallTime),
    Buffer.from([...key(2, VARINT), ...varint(BigInt(step))]),
    lengthDelimited(5, summary),
  ]);
}
