// The demo layer: a synthetic "sort these letters" task with a hidden gold reward, SFT from
// scratch, on-policy pairs, DPO / SimPO / α-DPO through the trainer, and the evaluation table
// (docs/demo.md). `alpha-dpo demo` (src/cli/demo.ts) runs it.
export { DEMO_METHODS, type DemoMethod, type DemoSizes, FULL_SIZES, QUICK_SIZES } from './demo-settings.js';
export { createDemoTokenizer, DEMO_IDS, DEMO_VOCAB } from './demo-tokenizer.js';
export { type EvalSampling, evaluatePolicy, type PolicyEvaluation, type PolicyLoss, type PolicySamples } from './evaluate-policy.js';
export {
  type AnnotatorNoise,
  DEFAULT_NOISE,
  goldReward,
  LETTERS,
  noisyDemonstration,
  randomPrompt,
  sortedLetters,
} from './letter-sort-task.js';
export { buildOnPolicyPairs, type OnPolicyPairs } from './on-policy-pairs.js';
export { formatDemoTable } from './results-table.js';
export { type DemoOptions, type DemoResult, type DemoRow, type PairSummary, runDemo } from './run-demo.js';
export { type SftOptions, type SftResult, supervisedFineTune } from './sft.js';
