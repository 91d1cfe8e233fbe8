// The training layer: config, trainer, checkpoints, reference log-prob cache.
export { type BatchScores, scoreBatch } from './batch-scores.js';
export { CheckpointError, listCheckpoints, readCheckpoint, saveCheckpoint, TRAINER_STATE_FILE, type TrainerState } from './checkpoint.js';
export { type PreferenceTrainerInputs, type TrainOptions, type TrainSummary, trainPreferences } from './preference-trainer.js';
export { cacheDirectory, type ReferenceTable, referenceCacheKey, referenceTable } from './reference-cache.js';
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
