// Paired data as unpaired examples, as TRL's unpair_preference_dataset: each pair gives a
// desirable example (its chosen completion) and an undesirable one (its rejected completion),
// same prompt and metadata. Difference: TRL puts the chosen examples of each block of 1000 pairs
// before their rejected ones; here each pair's two examples are adjacent, so a batch drawn in
// order holds both labels instead of a run of one label.
import type { PreferencePair } from './preference-pair.js';
import type { UnpairedExample } from './unpaired-example.js';

export function unpairPairs(pairs: readonly PreferencePair[]): UnpairedExample[] {
  return pairs.flatMap((pair): UnpairedExample[] => {
    const { metadata, source } = pair;
    if (pair.kind === 'text') {
      return [
        { kind: 'text', prompt: pair.prompt, completion: pair.chosen, label: true, metadata, source },
        { kind: 'text', prompt: pair.prompt, completion: pair.rejected, label: false, metadata, source },
      ];
    }
    const t = pair.transcript;
    return [
      {
        kind: 'messages',
        prompt: pair.prompt,
        completion: pair.chosen,
        label: true,
        transcript: t === null ? null : { prompt: t.prompt, completion: t.chosen },
        metadata,
        source,
      },
      {
        kind: 'messages',
        prompt: pair.prompt,
        completion: pair.rejected,
        label: false,
        transcript: t === null ? null : { prompt: t.prompt, completion: t.rejected },
        metadata,
        source,
      },
    ];
  });
}
