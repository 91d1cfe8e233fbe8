// `alpha-dpo data inspect|convert`: look at a preference dataset, or write it in the normalised
// form training reads.
import { DataError } from '../data/errors.js';
import { ODD_ROW_KINDS } from '../data/odd-row-kinds.js';
import { type CommandIO, UsageError } from './command.js';
import { dataFlagsHelp, parseDataArgs } from './data-args.js';
import { convertData } from './data-convert.js';
import { formatInspect, inspectData } from './data-inspect.js';

export const DATA_HELP = `alpha-dpo data: preference datasets

Usage:
  alpha-dpo data inspect FILE... [--model DIR] [--json] [--split NAME] [data settings]
      Detected format, rows, usable pairs, odd rows by kind (count, action, first locations).
      With --model (a folder with tokenizer.json): token length percentiles and how many pairs
      max_length / max_prompt_length would cut or drop. --json prints one JSON object.
      Bad rows are counted, not fatal, unless --on_bad_row is given.
  alpha-dpo data convert FILE... --out OUT.jsonl [--split NAME] [data settings]
      The usable pairs as {"prompt", "chosen", "rejected", ...metadata} lines: strings for text
      rows, message lists for conversational and HH-RLHF rows (OUT.jsonl.gz is gzipped).

FILE: a .jsonl/.ndjson/.json/.parquet file (optionally .gz), a folder of shards, or several files.
--split NAME: a JSON file's {"train": [...]} key, or a folder's shards named NAME-… / NAME.… / NAME/.

Data settings (YAML keys of the training config, same names):
${dataFlagsHelp()}
`;

export async function runData(argv: string[], io: CommandIO): Promise<number> {
  const { out, err } = io;
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || rest.includes('--help') || rest.includes('-h')) {
    out(DATA_HELP);
    return sub === undefined ? 1 : 0;
  }
  if (sub === 'inspect') {
    const args = parseDataArgs(rest, ['model', 'split'], ['json']);
    if (args.files.length === 0) throw new DataError('data inspect needs a FILE (or folder). Run alpha-dpo data --help.');
    const result = await inspectData(args);
    out(args.switches.has('json') ? `${JSON.stringify(result)}\n` : formatInspect(result));
    return 0;
  }
  if (sub === 'convert') {
    const args = parseDataArgs(rest, ['out', 'split'], []);
    if (args.files.length === 0) throw new DataError('data convert needs a FILE (or folder). Run alpha-dpo data --help.');
    const { out: path, dataset } = await convertData(args);
    const dropped = dataset.report
      .kinds()
      .filter((kind) => ODD_ROW_KINDS[kind].action === 'dropped')
      .map((kind) => `${kind} ${dataset.report.count(kind)}`);
    err(
      `wrote ${dataset.pairs.length} pairs (format ${dataset.format}) from ${dataset.rows} rows to ${path}` +
        `${dropped.length > 0 ? `; dropped: ${dropped.join(', ')}` : ''}\n`,
    );
    return 0;
  }
  throw new UsageError(`unknown subcommand '${sub}' (expected inspect or convert). Run alpha-dpo data --help.`);
}
