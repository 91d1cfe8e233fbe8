// "Did you mean …?" for a misspelt config key, loss type or enum value: the known names the
// user most plausibly meant, or none. A wrong suggestion is worse than none (lora_alpha was once
// offered ld_alpha), so a candidate must be close relative to the length of the name.

function normalise(name: string): string {
  return name.toLowerCase().replaceAll('-', '_');
}

function words(name: string): string[] {
  return normalise(name).split('_').filter(Boolean);
}

/**
 * Optimal-string-alignment distance, case-insensitive: inserting, deleting or substituting a
 * character, or swapping two neighbours (max_lenght → max_length), each cost 1.
 */
export function editDistance(a: string, b: string): number {
  const s = a.toLowerCase();
  const t = b.toLowerCase();
  const d: number[][] = Array.from({ length: s.length + 1 }, (_, i) =>
    Array.from({ length: t.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= s.length; i++) {
    for (let j = 1; j <= t.length; j++) {
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let best = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1])
        best = Math.min(best, ((d[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = best;
    }
  }
  return (d[s.length] as number[])[t.length] as number;
}

/** Edits a typo of a name this long may need: 1 up to 7 characters, then one per 4 characters. */
function editLimit(length: number): number {
  return Math.max(1, Math.floor(length / 4));
}

/**
 * The candidates `name` most plausibly meant, best first (at most 3; several only when equally
 * good), or [] when none is close. In order of preference:
 * 1. the same name up to case and '-'/'_' (alpha_dpo → alpha-dpo);
 * 2. a few edits away, relative to the length (max_lenght → max_length; lora_alpha, 3 edits
 *    from ld_alpha, is not offered it);
 * 3. a key holding every word of the name (batch_size → per_device_train_batch_size).
 */
export function suggestNames(name: string, candidates: readonly string[]): string[] {
  const target = normalise(name);
  const exact = candidates.filter((c) => normalise(c) === target);
  if (exact.length > 0) return exact.slice(0, 3);

  let best = Number.POSITIVE_INFINITY;
  let near: string[] = [];
  for (const candidate of candidates) {
    const d = editDistance(target, normalise(candidate));
    if (d > editLimit(Math.max(target.length, candidate.length)) || d > best) continue;
    if (d < best) near = [];
    best = d;
    near.push(candidate);
  }
  if (near.length > 0) return near.slice(0, 3);

  const mine = words(name);
  if (mine.length === 0 || (mine.length === 1 && (mine[0] as string).length < 4)) return [];
  return candidates.filter((c) => words(c).length > mine.length && mine.every((w) => words(c).includes(w))).slice(0, 3);
}

/** The single most plausible candidate, or null (see suggestNames). */
export function nearestName(name: string, candidates: readonly string[]): string | null {
  return suggestNames(name, candidates)[0] ?? null;
}

/** " Did you mean 'x'?" (or "'x' or 'y'"), or '' when nothing is close. */
export function didYouMean(name: string, candidates: readonly string[]): string {
  const names = suggestNames(name, candidates);
  return names.length === 0 ? '' : ` Did you mean ${names.map((n) => `'${n}'`).join(' or ')}?`;
}
