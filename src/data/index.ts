// The data layer: preference datasets from files to padded batches. Reading and normalising
// (read/, formats/) need no tokenizer; tokenize/ applies the model's tokenizer; batch/ makes
// tensors.

export { SeededRandom } from '../random/seeded-random.js';
export { type CollatedArrays, type CollateOptions, collateArrays, collatedTensors } from './batch/collate-pairs.js';
export { type DataCursor, dataFingerprint, parseDataCursor } from './batch/data-cursor.js';
export { type PreferenceBatch, PreferenceBatches, type PreferenceBatchesOptions, resolvePaddingValue } from './batch/preference-batches.js';
export { unpairedRows } from './batch/unpaired-rows.js';
export {
  BAD_ROW_POLICIES,
  type BadRowPolicy,
  DATA_CONFIG_KEYS,
  DATA_CONFIG_SCHEMA,
  DATASET_FORMATS,
  type DataConfig,
  type DataConfigInput,
  type DataConfigKey,
  MAX_ROW_BYTES_LIMIT,
  resolveDataConfig,
  TRUNCATION_MODES,
  type TruncationMode,
} from './data-config.js';
export {
  BadRowError,
  DataConfigError,
  DataCursorError,
  DataError,
  DataSourceError,
  RenderError,
  RowTooLargeError,
  SplitChoiceError,
} from './errors.js';
export { DATASET_FORMAT_DOCS, type DatasetFormat, detectDatasetFormat, UNPAIRED_FORMATS } from './formats/dataset-format.js';
export { explicitPromptRow } from './formats/explicit-prompt-row.js';
export type { MessagesPreferencePair, PreferencePair, TextPreferencePair } from './formats/preference-pair.js';
export { unpairPairs } from './formats/unpair-pairs.js';
export type { MessagesUnpairedExample, TextUnpairedExample, UnpairedExample } from './formats/unpaired-example.js';
export { ODD_ROW_KINDS, type OddRowKind } from './odd-row-kinds.js';
export { OddRowReport } from './odd-row-report.js';
export { type LoadPreferenceDatasetOptions, loadPreferenceDataset, type PreferenceDataset } from './preference-dataset.js';
export { type DataFilesSource, resolveDataFiles } from './read/data-files.js';
export { formatLocation, type RowLocation } from './row-location.js';
export { type TokenLengthStats, tokenLengthStats } from './tokenize/token-length-stats.js';
export { type TokenizedDataset, tokenizePreferencePairs } from './tokenize/tokenize-pairs.js';
export { type TokenizedExample, type TokenizedUnpairedDataset, tokenizeUnpairedExamples } from './tokenize/tokenize-unpaired.js';
export type { PairTokenLengths, TokenizedPair, TokenizedSide } from './tokenize/tokenized-pair.js';
