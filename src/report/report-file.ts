// `alpha-dpo report`: one run (or several, overlaid) as a single HTML file that opens offline:
// the dashboard's charts with uPlot, the page script and the data inline, plus each run's
// summary, final evaluation, checkpoints and config.
import { writeFile } from 'node:fs/promises';
import { pageData } from './page-data.js';
import { reportPageHtml } from './page-html.js';
import { openRuns } from './run-source.js';

export interface ReportResult {
  path: string;
  bytes: number;
  /** Rows read per run. */
  rows: number[];
}

/** The report page of these run folders, as HTML text. */
export async function reportHtml(dirs: readonly string[]): Promise<{ html: string; rows: number[] }> {
  const runs = await openRuns(dirs);
  for (const run of runs) await run.refresh();
  const infos = await Promise.all(runs.map((r) => r.info()));
  const title = `alpha-dpo report: ${runs.map((r) => r.name).join(', ')}`;
  return { html: await reportPageHtml(title, pageData(runs, infos)), rows: runs.map((r) => r.series.rowCount) };
}

/** Writes the report of these run folders to `outPath`. */
export async function writeReport(dirs: readonly string[], outPath: string): Promise<ReportResult> {
  const { html, rows } = await reportHtml(dirs);
  await writeFile(outPath, html);
  return { path: outPath, bytes: Buffer.byteLength(html), rows };
}
