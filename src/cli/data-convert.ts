// `alpha-dpo data convert FILE --out OUT.jsonl`: the usable pairs (or unpaired examples) in normalised explicit-prompt
// form, one JSON object a line, so a user sees exactly what training reads. `.gz` output is gzipped.
import { gzipSync } from 'node:zlib';
import { DataConfigError } from '../data/errors.js';
import { explicitPromptRow } from '../data/formats/explicit-prompt-row.js';
import { loadPreferenceDataset, type PreferenceDataset } from '../data/preference-dataset.js';
import { writeFileAtomically, writeFully } from '../io/atomic-write.js';
import type { DataCommandArgs } from './data-args.js';

export async function convertData(args: DataCommandArgs): Promise<{ out: string; dataset: PreferenceDataset }> {
  const out = args.flags.get('out');
  if (out === undefined) throw new DataConfigError('--out', 'data convert needs --out OUT.jsonl (the file to write).');
  const split = args.flags.get('split') ?? null;
  const dataset = await loadPreferenceDataset(args.files.length === 1 ? (args.files[0] as string) : args.files, args.config, { split });
  // Unpaired examples are written in TRL's unpaired form: prompt, completion, label, then the metadata.
  const rows = [
    ...dataset.pairs.map(explicitPromptRow),
    ...dataset.examples.map((e) => ({ prompt: e.prompt, completion: e.completion, label: e.label, ...e.metadata })),
  ];
  const text = rows.map((row) => `${JSON.stringify(row)}\n`).join('');
  const bytes = out.endsWith('.gz') ? gzipSync(text) : new TextEncoder().encode(text);
  await writeFileAtomically(out, (fh) => writeFully(fh, bytes, 0));
  return { out, dataset };
}
