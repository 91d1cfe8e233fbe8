// Counts of odd rows by kind, with the first few locations of each, so nothing is lost silently.
import { ODD_ROW_KIND_NAMES, ODD_ROW_KINDS, type OddRowKind } from './odd-row-kinds.js';
import { formatLocation, type RowLocation } from './row-location.js';

/** Locations kept per kind: enough to open the file at a few examples without holding every one. */
export const EXAMPLES_PER_KIND = 5;

export interface OddRowExample {
  location: RowLocation;
  /** Why (for bad rows: the reason the row is invalid). */
  detail: string | null;
}

export interface OddRowEntry {
  count: number;
  examples: OddRowExample[];
}

/** One kind as printed by `data inspect --json`. */
export interface OddRowSummary {
  count: number;
  action: 'dropped' | 'kept';
  examples: string[];
}

export class OddRowReport {
  private readonly entries = new Map<OddRowKind, OddRowEntry>();

  add(kind: OddRowKind, location: RowLocation, detail: string | null = null): void {
    let entry = this.entries.get(kind);
    if (entry === undefined) {
      entry = { count: 0, examples: [] };
      this.entries.set(kind, entry);
    }
    entry.count += 1;
    if (entry.examples.length < EXAMPLES_PER_KIND) entry.examples.push({ location, detail });
  }

  /** Adds `other`'s counts and examples to this report (e.g. tokenisation kinds to the reading kinds). */
  mergeFrom(other: OddRowReport): void {
    for (const kind of other.kinds()) {
      const theirs = other.entry(kind) as OddRowEntry;
      const mine = this.entries.get(kind) ?? { count: 0, examples: [] };
      mine.count += theirs.count;
      mine.examples.push(...theirs.examples.slice(0, EXAMPLES_PER_KIND - mine.examples.length));
      this.entries.set(kind, mine);
    }
  }

  count(kind: OddRowKind): number {
    return this.entries.get(kind)?.count ?? 0;
  }

  entry(kind: OddRowKind): OddRowEntry | undefined {
    return this.entries.get(kind);
  }

  /** The kinds seen, in the order of ODD_ROW_KINDS. */
  kinds(): OddRowKind[] {
    return ODD_ROW_KIND_NAMES.filter((kind) => this.entries.has(kind));
  }

  /** Rows not trained on, summed over the dropping kinds. */
  dropped(): number {
    let total = 0;
    for (const [kind, entry] of this.entries) if (ODD_ROW_KINDS[kind].action === 'dropped') total += entry.count;
    return total;
  }

  toJSON(): Record<string, OddRowSummary> {
    const out: Record<string, OddRowSummary> = {};
    for (const kind of this.kinds()) {
      const entry = this.entries.get(kind) as OddRowEntry;
      out[kind] = {
        count: entry.count,
        action: ODD_ROW_KINDS[kind].action,
        examples: entry.examples.map((e) =>
          e.detail === null ? formatLocation(e.location) : `${formatLocation(e.location)}: ${e.detail}`,
        ),
      };
    }
    return out;
  }
}
