// `alpha-dpo report OUTPUT_DIR [OUTPUT_DIR ...] --out report.html`: the dashboard's charts of
// one or more runs, with their summaries, final evaluation, checkpoints and config, as one
// self-contained HTML file (opens offline; nothing is loaded from anywhere).
import { resolve } from 'node:path';
import { writeReport } from '../report/report-file.js';
import { type CommandIO, UsageError } from './command.js';
import { parseRunFolderArgs } from './report-args.js';

export const REPORT_HELP = `alpha-dpo report: one training run as a self-contained HTML file

Usage: alpha-dpo report OUTPUT_DIR [OUTPUT_DIR ...] --out report.html

The charts of \`alpha-dpo dashboard\` (runs overlaid when several are given), plus each run's
summary (train_summary.json), final evaluation, checkpoints and config. Scripts and data are
inside the file: it opens in a browser without a network and can be sent to someone.

  OUTPUT_DIR   a training run's output_dir
  --out FILE   the HTML file to write
`;

export async function runReport(args: string[], io: CommandIO): Promise<number> {
  const { out } = io;
  const parsed = parseRunFolderArgs(args, ['out'], 'report');
  if (parsed.help) {
    out(REPORT_HELP);
    return 0;
  }
  if (parsed.dirs.length === 0) throw new UsageError('name a run folder: alpha-dpo report OUTPUT_DIR --out report.html');
  const outPath = parsed.flags.out;
  if (outPath === undefined || outPath === '') throw new UsageError('say where to write the report: --out report.html');
  const result = await writeReport(parsed.dirs, resolve(outPath));
  out(`report: ${result.path} (${(result.bytes / 1024).toFixed(0)} KiB; ${result.rows.join(' + ')} metrics rows)\n`);
  return 0;
}
