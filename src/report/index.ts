// Seeing training: the live dashboard, the self-contained HTML report, and TensorBoard event files.
export { type DashboardOptions, DashboardServer, DEFAULT_PORT } from './dashboard-server.js';
export { DashboardListenError, RunSourceError } from './errors.js';
export { groupMetrics, type MetricGroup, metricGroupOf } from './metric-groups.js';
export { type MetricsRecord, type MetricValue, parseMetricsLine } from './metrics-line.js';
export { type MetricsRead, MetricsReader } from './metrics-reader.js';
export type { PageData, PageRun } from './page-data.js';
export { type ReportResult, reportHtml, writeReport } from './report-file.js';
export { type RunInfo, readRunInfo } from './run-info.js';
export { type MetricCell, type RunRows, RunSeries } from './run-series.js';
export { defaultLoggingDir, TensorBoardWriter, tensorBoardTags } from './tensorboard/tensorboard-writer.js';
