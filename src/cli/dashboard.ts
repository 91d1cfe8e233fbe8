// `alpha-dpo dashboard OUTPUT_DIR [OUTPUT_DIR ...] [--port P] [--host H]`: a local web page
// that plots the metrics of training runs and follows them live. Runs until Ctrl-C.
import { DashboardServer, DEFAULT_PORT } from '../report/dashboard-server.js';
import { type CommandIO, UsageError } from './command.js';
import { parseRunFolderArgs } from './report-args.js';

export const DASHBOARD_HELP = `alpha-dpo dashboard: watch training runs in a browser

Usage: alpha-dpo dashboard OUTPUT_DIR [OUTPUT_DIR ...] [--port P] [--host H]

Serves one page plotting each run's metrics.jsonl (loss, rewards/*, logps/*, logits/*, margin/*,
gap/*, eval_*, learning rate, gradient norm, throughput), overlaid in distinct colours, updated
live as the runs train. Open the printed address in a browser; Ctrl-C stops the server.

  OUTPUT_DIR   a training run's output_dir (metrics.jsonl may appear later)
  --port P     port to listen on (default ${DEFAULT_PORT}; 0 picks a free one)
  --host H     address to listen on (default 127.0.0.1: this machine only). Another address,
               e.g. 0.0.0.0, lets other machines see your runs' metrics and configs.
`;

export async function runDashboard(args: string[], io: CommandIO): Promise<number> {
  const { out } = io;
  const parsed = parseRunFolderArgs(args, ['port', 'host'], 'dashboard');
  if (parsed.help) {
    out(DASHBOARD_HELP);
    return 0;
  }
  if (parsed.dirs.length === 0) throw new UsageError('name at least one run folder: alpha-dpo dashboard OUTPUT_DIR');
  const portText = parsed.flags.port;
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || portText?.trim() === '') {
    throw new UsageError(`--port must be a whole number from 0 to 65535, got '${portText}'`);
  }
  const server = await DashboardServer.start(parsed.dirs, { port, ...(parsed.flags.host ? { host: parsed.flags.host } : {}) });
  for (const run of server.runs) out(`run ${run.name}: ${run.series.rowCount} metrics rows in ${run.dir}\n`);
  out(`dashboard: ${server.url}  (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await server.close();
  return 0;
}
