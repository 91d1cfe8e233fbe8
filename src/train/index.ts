// The training layer: config, the one-call train(), the trainer, evaluation, checkpoints, the
// reference log-prob cache.
export { type BatchLogpsSettings, batchLogps, type ReferenceSource } from './batch-logps.js';
export { type BatchScores, scoreBatch } from './batch-scores.js';
export { CheckpointError, listCheckpoints, readCheckpoint, saveCheckpoint, TRAINER_STATE_FILE, type TrainerState } from './checkpoint.js';
export { type EvaluateOptions, type EvaluationSettings, evaluatePreferences } from './evaluate.js';
export { METRICS_FILE, type MetricRecord, type MetricSink } from './metrics-log.js';
export {
  type PreferenceTrainerInputs,
  TRAIN_SUMMARY_FILE,
  type TrainOptions,
  type TrainSummary,
  trainPreferences,
} from './preference-trainer.js';
export { cacheDirectory, type ReferenceTable, referenceCacheKey, referenceTable } from './reference-cache.js';
export { RUN_LOCK_FILE, RunFolderError } from './run-folder.js';
export { checkModelFolder, train } from './train.js';
export {
  ALL_CONFIG_KEYS,
  mergeTrainConfigSources,
  parseOverrides,
  REPORT_TARGETS,
  type ReportTarget,
  type RequiredTrainKey,
  type ResolveTrainConfigOptions,
  readTrainConfigFile,
  resolveTrainConfig,
  TRAIN_CONFIG_SCHEMA,
  TRAIN_KEYS,
  type TrainConfig,
  TrainConfigError,
  trainConfigHelp,
} from './train-config.js';
export { holdOut, loadTrainingPairs, type TrainingPairs } from './training-data.js';
