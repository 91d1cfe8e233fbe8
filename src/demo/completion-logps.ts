// Sequence log-probs of completions given their prompts under a model, without gradients: the
// KL estimate and the held-out reward accuracy need them for many (prompt, completion) rows.
import { IGNORE_INDEX, sequenceLogps } from '../losses/sequence-logps.js';
import type { CausalLM } from '../models/causal-lm.js';
import * as torch from '../torch.js';
import { DEMO_IDS } from './demo-tokenizer.js';

export interface CompletionRow {
  prompt: ArrayLike<number>;
  /** Never empty. */
  completion: ArrayLike<number>;
}

export interface CompletionLogpsOptions {
  /** Per-token mean over the completion (nats/token) instead of the sum (nats). */
  average: boolean;
  /** Rows per forward pass. Default 512. */
  rowsPerBatch?: number;
}

/** log π(completion | prompt) of each row, summed or averaged over the completion's tokens (EOS included when present). */
export function completionLogps(model: CausalLM, rows: readonly CompletionRow[], options: CompletionLogpsOptions): number[] {
  const perBatch = options.rowsPerBatch ?? 512;
  const out: number[] = [];
  for (let start = 0; start < rows.length; start += perBatch) {
    const chunk = rows.slice(start, start + perBatch);
    const width = Math.max(...chunk.map((r) => r.prompt.length + r.completion.length));
    const ids: number[][] = [];
    const labels: number[][] = [];
    for (const r of chunk) {
      const used = r.prompt.length + r.completion.length;
      ids.push([...Array.from(r.prompt), ...Array.from(r.completion), ...new Array<number>(width - used).fill(DEMO_IDS.pad)]);
      labels.push([
        ...new Array<number>(r.prompt.length).fill(IGNORE_INDEX),
        ...Array.from(r.completion),
        ...new Array<number>(width - used).fill(IGNORE_INDEX),
      ]);
    }
    // Right padding needs no attention mask in a causal model: real tokens never attend to later positions.
    const values = torch.noGrad(() =>
      torch.tidy(() => {
        const logits = model.forward(torch.tensor(ids, { dtype: 'int64' })); // [B, T, V]
        return sequenceLogps(logits, torch.tensor(labels, { dtype: 'int64' }), { average: options.average }).toNumbers();
      }),
    );
    out.push(...values);
  }
  return out;
}
