// Shared test helpers: fixtures and numeric comparison.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type DType, type Tensor, torch } from '../src/index.js';

export interface FixtureTensor {
  shape: number[];
  dtype: string;
  data: number[];
}

export function readFixture<T>(name: string): T {
  const path = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', name);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export function fromFixture(f: FixtureTensor): Tensor {
  const dtype = f.dtype as DType;
  return torch.tensor(f.data, { dtype }).reshape(f.shape);
}

/** Asserts |a − e| ≤ atol + rtol·|e| elementwise, with the same shape. */
export function assertClose(
  actual: Tensor,
  expected: FixtureTensor | { shape: readonly number[]; data: readonly number[] },
  rtol = 1e-9,
  atol = 1e-12,
  what = '',
): void {
  assert.deepEqual([...actual.shape], [...expected.shape], `${what}: shape`);
  const a = actual.toNumbers();
  a.forEach((v, i) => {
    const e = expected.data[i] as number;
    const ok = Number.isNaN(e) ? Number.isNaN(v) : Math.abs(v - e) <= atol + rtol * Math.abs(e);
    assert.ok(ok, `${what}: element ${i}: got ${v}, expected ${e}`);
  });
}
