// KL(π ‖ π_SFT) of sampled responses, two ways on the same samples:
// - exact per step: at every response position t (EOS included), the full next-token
//   divergence Σ_v π(v | x, y_<t) [log π(v | x, y_<t) − log π_SFT(v | x, y_<t)], summed over t.
//   The vocabulary is small (≈ 120 tokens), so the sum over v is exact; only the prefixes y_<t
//   are sampled. Its expectation over y ~ π is the sequence KL, with far less variance than
// - the Monte-Carlo estimate Σ_t [log π(y_t | ·) − log π_SFT(y_t | ·)] on the sampled tokens.
// Both are in nats per response; divided by the response's tokens they give nats per token.
import type { CausalLM } from '../models/causal-lm.js';
import * as torch from '../tensor/torch.js';
import { STUDY_IDS } from './teacher-language.js';

export interface SampleKl {
  /** Σ_t exact per-step KL (nats). */
  exact: number;
  /** Σ_t log-ratio of the sampled tokens (nats). */
  monteCarlo: number;
  /** Response tokens (EOS included when present). */
  tokens: number;
}

export interface KlRow {
  prompt: readonly number[];
  /** The response (never empty). */
  response: readonly number[];
}

/** [B, T, V] log-softmax of a model's logits on right-padded rows, as a flat Float32Array. */
function logProbs(model: CausalLM, ids: number[][]): { values: Float32Array; time: number; vocab: number } {
  return torch.noGrad(() =>
    torch.tidy(() => {
      const lp = model.forward(torch.tensor(ids, { dtype: 'int64' })).logSoftmax(-1); // [B, T, V]
      return { values: lp.to('float32').contiguous().toArray() as Float32Array, time: lp.size(1), vocab: lp.size(2) };
    }),
  );
}

/** Exact and Monte-Carlo KL of each row's response, `rowsPerBatch` rows per forward pass (default 256). */
export function sampleKl(policy: CausalLM, sft: CausalLM, rows: readonly KlRow[], rowsPerBatch = 256): SampleKl[] {
  const out: SampleKl[] = [];
  for (let start = 0; start < rows.length; start += rowsPerBatch) {
    const chunk = rows.slice(start, start + rowsPerBatch);
    const width = Math.max(...chunk.map((r) => r.prompt.length + r.response.length));
    const ids = chunk.map((r) => {
      const row = [...r.prompt, ...r.response];
      return [...row, ...new Array<number>(width - row.length).fill(STUDY_IDS.pad)];
    });
    const p = logProbs(policy, ids);
    const q = logProbs(sft, ids);
    const { time, vocab } = p;
    chunk.forEach((r, b) => {
      let exact = 0;
      let monteCarlo = 0;
      // Position t of the row predicts token t + 1: response token j sits at prompt.length + j.
      for (let j = 0; j < r.response.length; j++) {
        const at = (b * time + r.prompt.length + j - 1) * vocab;
        for (let v = 0; v < vocab; v++) {
          const lp = p.values[at + v] as number;
          exact += Math.exp(lp) * (lp - (q.values[at + v] as number));
        }
        const token = r.response[j] as number;
        monteCarlo += (p.values[at + token] as number) - (q.values[at + token] as number);
      }
      out.push({ exact, monteCarlo, tokens: r.response.length });
    });
  }
  return out;
}
