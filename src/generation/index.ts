// Text generation with Hugging Face causal LMs.

export { SeededRandom } from '../random/seeded-random.js';
export { type FinishReason, type GeneratedText, type GenerateOptions, type GenerateOutput, generate, generateText } from './generate.js';
export { type WarpOptions, warpLogits } from './logits-warpers.js';
