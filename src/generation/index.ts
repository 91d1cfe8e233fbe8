// Text generation with Hugging Face causal LMs.
export { type FinishReason, type GeneratedText, type GenerateOptions, type GenerateOutput, generate, generateText } from './generate.js';
export { type WarpOptions, warpLogits } from './logits-warpers.js';
export { SeededRandom } from './seeded-random.js';
