// Reading the config tables of docs/*.md, so tests can hold each table to its schema: a table
// whose header's first cell is `key`, one row per config key, with a `default` column.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The text of docs/NAME (or of README.md at the root when NAME is 'README.md'). */
export function readDoc(name: string): string {
  return readFileSync(name === 'README.md' ? join(REPO_ROOT, name) : join(REPO_ROOT, 'docs', name), 'utf8');
}

export interface KeyRow {
  key: string;
  /** The default column's text, as written. */
  defaultCell: string;
  /** 1-based line in the document. */
  line: number;
}

function cells(line: string): string[] {
  // A table row: split on | that is not escaped (\|), trim, drop the empty edge cells.
  return line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** Every row of every `| key | … |` table in `doc` that has a default column, by key. */
export function keyTableRows(doc: string): KeyRow[] {
  const lines = doc.split('\n');
  const rows: KeyRow[] = [];
  for (let i = 0; i < lines.length; i++) {
    const header = cells(lines[i]!);
    if (!lines[i]!.startsWith('|') || header[0] !== 'key') continue;
    const column = header.indexOf('default');
    if (column < 0) continue;
    for (let j = i + 2; j < lines.length && lines[j]!.startsWith('|'); j++) {
      const row = cells(lines[j]!);
      const key = /^`([^`]+)`$/.exec(row[0] ?? '')?.[1];
      if (key === undefined) throw new Error(`line ${j + 1}: the first cell of a key table must be a \`key\`, got ${row[0]}`);
      rows.push({ key, defaultCell: row[column] ?? '', line: j + 1 });
    }
  }
  return rows;
}

/**
 * The value a default cell states: `— …` is "no default" (undefined); otherwise the first
 * token, in backticks or not, read as JSON, with '…' or "…" read as a string
 * (`"auto"`, `'ema'`, `0.25`, 1e-6, `null`, null (1 each), `["train","test"]`).
 */
export function parseDefaultCell(cell: string): unknown {
  if (cell.startsWith('—')) return undefined;
  const token = /^`([^`]*)`/.exec(cell)?.[1] ?? cell.split(/\s+/)[0] ?? '';
  const quoted = /^'(.*)'$/.exec(token);
  if (quoted) return quoted[1];
  try {
    return JSON.parse(token);
  } catch {
    throw new Error(`cannot read the default '${cell}': write it as JSON in backticks, e.g. \`"auto"\`, \`0.25\`, \`null\``);
  }
}
