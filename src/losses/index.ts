// The loss library's public surface: preference losses by name, α-DPO's running statistics,
// sequence log-probs from logits, and the typed errors.
export { AlphaDpoState, type AlphaDpoStateJSON, type GapBatchStats } from './alpha-dpo-state.js';
export {
  CONFIG_SCHEMA,
  F_DIVERGENCES,
  type FDivergenceType,
  isResolvedLossConfig,
  NORMALIZATIONS,
  type Normalization,
  type PreferenceLossConfig,
  type ResolvedLossConfig,
  resolveLossConfig,
} from './config.js';
export { EmptySequenceError, LossConfigError, LossError, LossInputError, NonFiniteLossError, UnknownLossTypeError } from './errors.js';
export { type LossRequirements, lossRequirements, preferenceLoss } from './preference-loss.js';
export { LOSS_REGISTRY, LOSS_TYPES, type LossType } from './registry.js';
export { IGNORE_INDEX, sequenceLogps, type TokenLogpsResult, tokenLogps, wpoLogWeights } from './sequence-logps.js';
export type {
  AnyLossDefinition,
  LossDefinition,
  LossWarning,
  PreferenceLogps,
  PreferenceLossOptions,
  PreferenceLossOutput,
  TokenLogps,
  UnpairedLogps,
  UnpairedLossDefinition,
} from './types.js';
