// Small static SVG charts drawn from data, for the study's self-contained report: lines with
// markers (one series per method), scatter points, axes with "nice" ticks, a legend. No script,
// no fonts or styles from the network: the file renders offline in any browser.

export interface ChartPoint {
  x: number;
  y: number;
  /** Tooltip text (an SVG <title>). */
  label?: string;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
  /** Connect the points in the given order (false: markers only). */
  line: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  width?: number;
  height?: number;
  /** A horizontal reference line (e.g. 0.5 for a win rate). */
  yReference?: number;
}

/** Colour-blind-safe palette (Okabe–Ito). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const fmt = (v: number) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4))));

export function svgChart(series: readonly ChartSeries[], options: ChartOptions): string {
  const width = options.width ?? 520;
  const height = options.height ?? 320;
  const m = { left: 58, right: 12, top: 28, bottom: 62 };
  const points = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const ys = points.map((p) => p.y).concat(options.yReference === undefined ? [] : [options.yReference]);
  const xs = points.map((p) => p.x);
  const pad = (lo: number, hi: number) => (hi > lo ? [lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo)] : [lo - 1, hi + 1]) as [number, number];
  const [x0, x1] = points.length ? pad(Math.min(...xs), Math.max(...xs)) : [0, 1];
  const [y0, y1] = points.length ? pad(Math.min(...ys), Math.max(...ys)) : [0, 1];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * (width - m.left - m.right);
  const sy = (y: number) => height - m.bottom - ((y - y0) / (y1 - y0)) * (height - m.top - m.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(options.title)}</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${width - m.left - m.right}" height="${height - m.top - m.bottom}" fill="none" stroke="#999"/>`,
  ];
  for (const t of niceTicks(x0, x1)) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${height - m.bottom}" y2="${height - m.bottom + 4}" stroke="#666"/>`);
    parts.push(`<text x="${sx(t)}" y="${height - m.bottom + 16}" text-anchor="middle" font-size="10">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    parts.push(`<line x1="${m.left - 4}" x2="${m.left}" y1="${sy(t)}" y2="${sy(t)}" stroke="#666"/>`);
    parts.push(`<text x="${m.left - 6}" y="${sy(t) + 3}" text-anchor="end" font-size="10">${fmt(t)}</text>`);
  }
  parts.push(
    `<text x="${(m.left + width - m.right) / 2}" y="${height - m.bottom + 32}" text-anchor="middle" font-size="11">${escapeXml(options.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${(m.top + height - m.bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="11">${escapeXml(options.yLabel)}</text>`,
  );
  if (options.yReference !== undefined) {
    const y = sy(options.yReference);
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y}" y2="${y}" stroke="#bbb" stroke-dasharray="4 3"/>`);
  }
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] as string;
    const ok = s.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    if (s.line && ok.length > 1) {
      const path = ok.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
      parts.push(`<polyline points="${path}" fill="none" stroke="${colour}" stroke-width="1.8"/>`);
    }
    for (const p of ok) {
      const title = p.label === undefined ? '' : `<title>${escapeXml(p.label)}</title>`;
      parts.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.2" fill="${colour}">${title}</circle>`);
    }
    const lx = m.left + (i % 4) * 118;
    const ly = height - 12 - Math.floor(i / 4) * 0;
    parts.push(`<rect x="${lx}" y="${ly - 8}" width="10" height="10" fill="${colour}"/>`);
    parts.push(`<text x="${lx + 14}" y="${ly + 1}" font-size="11">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
