// Readable text for tensors, in the spirit of PyTorch's repr: nested brackets, aligned
// columns, a summary with "..." past 1,000 elements.
import type { DType } from './dtype.js';

const EDGE = 3;
const SUMMARY_THRESHOLD = 1000;

function formatNumbers(values: number[], dtype: DType): string[] {
  if (dtype === 'bool') return values.map((v) => (v ? 'true' : 'false'));
  if (!(dtype === 'float32' || dtype === 'float64' || dtype === 'bfloat16' || dtype === 'float16')) {
    return values.map((v) => String(v));
  }
  const finite = values.filter((v) => Number.isFinite(v));
  const maxAbs = finite.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const minAbs = finite.filter((v) => v !== 0).reduce((m, v) => Math.min(m, Math.abs(v)), Number.POSITIVE_INFINITY);
  const scientific = maxAbs >= 1e8 || (minAbs < 1e-4 && minAbs !== Number.POSITIVE_INFINITY);
  return values.map((v) => {
    if (Number.isNaN(v)) return 'nan';
    if (!Number.isFinite(v)) return v > 0 ? 'inf' : '-inf';
    return scientific ? v.toExponential(4) : v.toFixed(4);
  });
}

export function formatTensor(values: ArrayLike<number>, shape: readonly number[], dtype: DType, suffix: string): string {
  const numel = shape.reduce((a, b) => a * b, 1);
  const summarize = numel > SUMMARY_THRESHOLD;
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));

  // Collect the indices of the shown elements, and a layout tree of them.
  type Node = number | '...' | Node[];
  const shown: number[] = [];
  const build = (dim: number, offset: number): Node => {
    if (dim === shape.length) {
      shown.push(offset);
      return shown.length - 1;
    }
    const n = shape[dim] as number;
    const idx: (number | '...')[] =
      summarize && n > 2 * EDGE
        ? [...Array.from({ length: EDGE }, (_, i) => i), '...', ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)]
        : Array.from({ length: n }, (_, i) => i);
    return idx.map((i) => (i === '...' ? '...' : build(dim + 1, offset + i * (strides[dim] as number))));
  };
  const tree = build(0, 0);
  const texts = formatNumbers(
    shown.map((i) => Number(values[i])),
    dtype,
  );
  const width = texts.reduce((w, t) => Math.max(w, t.length), 0);
  const indentBase = 'tensor('.length;
  const render = (node: Node, depth: number): string => {
    if (typeof node === 'number') return (texts[node] as string).padStart(width);
    if (node === '...') return '...';
    const sep =
      depth === shape.length - 1 ? ', ' : `,${'\n'.repeat(Math.max(1, shape.length - depth - 1))}${' '.repeat(indentBase + depth + 1)}`;
    return `[${node.map((c) => render(c, depth + 1)).join(sep)}]`;
  };
  const body = shape.length === 0 ? (texts[0] as string) : render(tree, 0);
  return `tensor(${body}${suffix})`;
}
