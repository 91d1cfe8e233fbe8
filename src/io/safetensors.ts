// safetensors checkpoints (https://github.com/huggingface/safetensors): the public API.
//   safetensors-format.ts   header parsing, validation and encoding (no I/O)
//   safetensors-file.ts     one file: readSafetensorsHeader, loadSafetensors, saveSafetensors
//   safetensors-sharded.ts  Hugging Face checkpoint folders, single-file or sharded with an index
//   atomic-write.ts         temporary file + fsync + rename

export {
  type LoadedSafetensors,
  type LoadSafetensorsOptions,
  loadSafetensors,
  readSafetensorsHeader,
  type SaveSafetensorsOptions,
  saveSafetensors,
  type TensorCollection,
} from './safetensors-file.js';
export {
  type ParseHeaderOptions,
  type SafetensorsDType,
  SafetensorsError,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from './safetensors-format.js';
export {
  DEFAULT_MAX_SHARD_SIZE,
  loadSafetensorsDir,
  readSafetensorsDirHeader,
  SAFETENSORS_FILE,
  SAFETENSORS_INDEX_FILE,
  type SavedCheckpoint,
  type SaveSafetensorsShardedOptions,
  saveSafetensorsSharded,
} from './safetensors-sharded.js';
