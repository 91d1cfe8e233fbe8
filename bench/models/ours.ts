// Our side of bench/models: one forward+backward training step of a causal LM, timed. The
// line-by-line twin of peer.py (same checkpoint, token ids, loss and gradient handling).
//
//   node --import tsx bench/models/ours.ts --model DIR --batch B --seq T --steps N --warmup W
//
// Prints one JSON line: step seconds, tokens/s, first loss, peak RSS.
import { parseArgs } from 'node:util';
import { AutoModelForCausalLM, torch } from '../../src/index.js';

/** Twin of token_ids in peer.py: a fixed arithmetic sequence, no RNG. */
function tokenIds(batch: number, seq: number, vocab: number): torch.Tensor {
  const data = BigInt64Array.from({ length: batch * seq }, (_, i) => BigInt((i * 7919 + 13) % vocab));
  return torch.tensor(data).reshape([batch, seq]);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      batch: { type: 'string' },
      seq: { type: 'string' },
      steps: { type: 'string' },
      warmup: { type: 'string' },
    },
  });
  const batch = Number(values.batch);
  const seq = Number(values.seq);
  const steps = Number(values.steps);
  const warmup = Number(values.warmup);
  const model = await AutoModelForCausalLM.fromPretrained(values.model as string);
  const ids = tokenIds(batch, seq, model.vocabSize);
  const targets = ids.narrow(1, 1, seq - 1).reshape([-1]);
  const params = model.parameters();
  const seconds: number[] = [];
  let firstLoss: number | null = null;
  for (let step = 0; step < warmup + steps; step++) {
    const start = performance.now();
    const value = torch.tidy(() => {
      const logits = model.forward(ids); // [B, T, V]
      // The flattened copy is not needed by backward: freed here, as Python frees its temporary.
      const flat = logits.narrow(1, 0, seq - 1).reshape([-1, model.vocabSize]);
      const loss = flat.crossEntropy(targets);
      flat.dispose();
      loss.backward();
      return loss.item();
    });
    for (const p of params) p.grad = null;
    const elapsed = (performance.now() - start) / 1000;
    firstLoss ??= value;
    if (step >= warmup) seconds.push(elapsed);
  }
  console.log(
    JSON.stringify({
      side: 'ours',
      threads: torch.getNumThreads(),
      seconds,
      tokens: batch * seq,
      loss: firstLoss,
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      liveTensors: torch.liveTensorCount(),
    }),
  );
  model.dispose();
}

await main();
