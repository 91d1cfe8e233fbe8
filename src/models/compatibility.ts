// Whether a policy, its reference model and a tokenizer can be trained together, checked when
// they are loaded rather than at the first step: a token id beyond the embedding fails deep in
// libtorch ("index out of range in self"), and a reference of another architecture, vocabulary
// or width would give log-ratios between unrelated models without any error at all.
import type { CausalLM } from './causal-lm.js';
import { ModelCompatibilityError } from './errors.js';

export interface ModelCompatibilityInputs {
  policy: CausalLM;
  /** The reference model (null or absent when the loss needs none). */
  reference?: CausalLM | null | undefined;
  /** Anything with transformers' len(tokenizer): the largest token id + 1. */
  tokenizer?: { readonly vocabSize: number } | null | undefined;
}

const describe = (m: CausalLM) => `${m.architecture} (vocab_size ${m.vocabSize}, hidden size ${m.hiddenSize})`;

/**
 * Throws ModelCompatibilityError, listing every problem, when the tokenizer has more tokens
 * than a model's embedding has rows, or the reference differs from the policy in architecture,
 * vocabulary size or hidden size. A tokenizer smaller than the embedding is fine (models often
 * pad their vocabulary to a multiple of 64 or 128).
 */
export function checkModelCompatibility({ policy, reference, tokenizer }: ModelCompatibilityInputs): void {
  const problems: string[] = [];
  const models: [string, CausalLM][] = [['policy', policy]];
  if (reference) models.push(['reference', reference]);
  if (tokenizer) {
    for (const [role, m] of models) {
      if (tokenizer.vocabSize > m.vocabSize) {
        problems.push(
          `the tokenizer has ${tokenizer.vocabSize} tokens but the ${role} model's embedding has ${m.vocabSize} rows, so ids ` +
            `${m.vocabSize}…${tokenizer.vocabSize - 1} have no embedding. Use the tokenizer saved with the model, or resize the ` +
            "model's embeddings to the tokenizer (transformers: model.resize_token_embeddings(len(tokenizer)), then save_pretrained)",
        );
      }
    }
  }
  if (reference) {
    const differs =
      reference.architecture !== policy.architecture ||
      reference.vocabSize !== policy.vocabSize ||
      reference.hiddenSize !== policy.hiddenSize;
    if (differs) {
      problems.push(
        `the reference model is ${describe(reference)} but the policy is ${describe(policy)}: the reference must be the same ` +
          'model family and size as the policy (usually the policy before training, i.e. the same folder)',
      );
    }
  }
  if (problems.length > 0) throw new ModelCompatibilityError(problems);
}
