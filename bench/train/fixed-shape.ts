// The fixed-shape case of bench/train with every peer a user might pick instead: GPT-2-small
// (124M), 2 pairs × 256 tokens (prompt 128), live reference, sigmoid DPO, AdamW, clipping at 1.
// Ours with bf16: true (and in float32, for scale), once per addon (the default build and one
// built against libtorch 2.x where there is one), against plain PyTorch in float32 and under
// torch.autocast("cpu", bfloat16), each on Debian's PyTorch 1.13 (/usr/bin/python3) and on
// PyTorch 2.13 (/work/venv/bin/python), and against TRL's DPOTrainer (the venv's TRL) in float32
// and with bf16: true, each with and without precompute_ref_log_probs. Every side is its own
// process; the sides take turns, in reverse order every other round; medians of the step times.
// A peer whose Python (or whose torch / trl) is missing is skipped with the reason. Every side
// uses every CPU (Debian's 1.13 would start with one thread; ours and the peers raise it alike).
//
//   node --import tsx bench/train/run.ts --only fixed [--rounds N] [--steps N]
import { execFile, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { median, type SideResult } from '../harness.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const run = promisify(execFile);

interface Side {
  label: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** An addon to run our side with: `path` null for the default build; `version` its libtorch. */
export interface OurAddon {
  path: string | null;
  version: string;
}

/** Why `python` cannot run `modules`, or null when it can. */
function missing(python: string, modules: string[]): string | null {
  if (!existsSync(python)) return `${python} does not exist`;
  try {
    execFileSync(python, ['-c', `import ${modules.join(', ')}`], { stdio: 'pipe' });
    return null;
  } catch {
    return `${python} cannot import ${modules.join(', ')}`;
  }
}

const uptime = () => {
  try {
    return execFileSync('uptime', { encoding: 'utf8' }).trim();
  } catch {
    return `load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`;
  }
};

export async function fixedShape(options: {
  ours: string[];
  addons: OurAddon[];
  rounds: number;
  steps: number;
  warmup: number;
  pairs: number;
  seq: number;
}) {
  const { randomInit, PRESETS, torch } = await import('../../src/index.js');
  const dir = await mkdtemp(join(tmpdir(), 'alpha-dpo-bench-fixed-'));
  try {
    torch.manualSeed(0);
    const model = randomInit(PRESETS['gpt2-small']);
    await model.savePretrained(dir);
    model.dispose();
    const shape = ['--model', dir, '--pairs', String(options.pairs), '--seq', String(options.seq)];
    const timing = ['--steps', String(options.steps), '--warmup', String(options.warmup)];
    // One set of our sides per addon: the default build (the system's libtorch) and, where given
    // or where CI left one, an addon built against libtorch 2.x (ALPHA_DPO_ADDON selects it).
    const sides: Side[] = [];
    const oursBf16: string[] = []; // the label of each addon's bf16 side; its variants add suffixes
    for (const addon of options.addons) {
      const env = addon.path ? { ...process.env, ALPHA_DPO_ADDON: addon.path } : undefined;
      const tag = `ours [libtorch ${addon.version}]`;
      oursBf16.push(`${tag} bf16`);
      sides.push(
        { label: `${tag} bf16`, command: process.execPath, args: [...options.ours, ...shape, ...timing, '--bf16'], env },
        {
          label: `${tag} bf16, ref_model_dtype bf16`,
          command: process.execPath,
          args: [...options.ours, ...shape, ...timing, '--bf16', '--ref-dtype', 'bfloat16'],
          env,
        },
        {
          label: `${tag} bf16, ref bf16, gradient_checkpointing`,
          command: process.execPath,
          args: [...options.ours, ...shape, ...timing, '--bf16', '--ref-dtype', 'bfloat16', '--gradient-checkpointing'],
          env,
        },
        { label: `${tag} fp32`, command: process.execPath, args: [...options.ours, ...shape, ...timing], env },
      );
    }
    const skipped: string[] = [];
    for (const [name, python] of [
      ['pytorch 1.13', '/usr/bin/python3'],
      ['pytorch 2.13', '/work/venv/bin/python'],
    ] as const) {
      const why = missing(python, ['torch']);
      if (why) {
        skipped.push(`${name}: ${why}`);
        continue;
      }
      const peer = [join(HERE, 'peer.py'), ...shape, ...timing];
      sides.push({ label: `${name} fp32`, command: python, args: peer });
      sides.push({ label: `${name} autocast bf16`, command: python, args: [...peer, '--autocast'] });
    }
    const venv = '/work/venv/bin/python';
    const trlMissing = missing(venv, ['torch', 'trl', 'transformers', 'datasets']);
    if (trlMissing) skipped.push(`TRL DPOTrainer: ${trlMissing}`);
    else {
      const trl = [join(HERE, 'trl_peer.py'), ...shape, ...timing];
      for (const bf16 of [false, true]) {
        for (const precompute of [false, true]) {
          sides.push({
            label: `TRL ${bf16 ? 'bf16' : 'fp32'}${precompute ? ', precompute_ref_log_probs' : ''}`,
            command: venv,
            args: [...trl, ...(bf16 ? ['--bf16'] : []), ...(precompute ? ['--precompute-ref-log-probs'] : [])],
          });
        }
      }
      skipped.push(
        "TRL padding_free: TRL 1.13's DPOTrainer turns it off with a warning ('temporarily unavailable after a refactor') and pads as without it, so those runs would repeat the ones above",
      );
    }

    console.log(
      `\nfixed shape: GPT-2-small (124M), ${options.pairs} pairs × ${options.seq} tokens, ${options.warmup} warm-up + ${options.steps} timed steps per side, ${options.rounds} round(s)`,
    );
    console.log(`uptime at start: ${uptime()}`);
    for (const s of skipped) console.log(`skipped ${s}`);
    const results = new Map<string, SideResult[]>(sides.map((s) => [s.label, []]));
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 === 0 ? sides : [...sides].reverse();
      for (const s of order) {
        try {
          const { stdout } = await run(s.command, s.args, { maxBuffer: 1 << 24, env: s.env });
          results.get(s.label)?.push(JSON.parse(stdout.trim().split('\n').pop() as string) as SideResult);
        } catch (e) {
          console.log(
            `${s.label}: failed: ${String((e as { stderr?: string }).stderr ?? e)
              .split('\n')
              .slice(-3)
              .join(' | ')}`,
          );
        }
        process.stderr.write(`fixed shape round ${r + 1}: ${s.label} done (${uptime()})\n`);
      }
    }
    const summary = (label: string) => {
      const xs = results.get(label) ?? [];
      if (xs.length === 0) return null;
      return {
        tps: median(xs.flatMap((x) => x.seconds.map((sec) => x.tokens / sec))),
        rss: Math.max(...xs.map((x) => x.peakRssMiB)),
        loss: (xs[0] as SideResult).loss,
        threads: (xs[0] as SideResult).threads,
      };
    };
    console.log('side                                                            threads   tok/s   peak RSS MiB  first loss');
    for (const s of sides) {
      const x = summary(s.label);
      if (!x) continue;
      console.log(
        `${s.label.padEnd(64)} ${String(x.threads).padStart(7)}  ${x.tps.toFixed(1).padStart(6)}  ${x.rss.toFixed(0).padStart(12)}  ${x.loss.toFixed(5).padStart(10)}`,
      );
    }
    // The targets: tokens/s ≥ 2.0× PyTorch fp32, ≥ 1.3× PyTorch autocast, ≥ 1.3× TRL
    // bf16 on PyTorch 2.13; peak RSS ≤ 0.5× PyTorch fp32. Each against each peer that ran.
    const targets: [string, number | null, number | null][] = [
      ['pytorch 1.13 fp32', 2.0, 0.5],
      ['pytorch 1.13 autocast bf16', 1.3, null],
      ['pytorch 2.13 fp32', 2.0, 0.5],
      ['pytorch 2.13 autocast bf16', 1.3, null],
      ['TRL fp32', null, null],
      ['TRL bf16', 1.3, null],
      ['TRL bf16, precompute_ref_log_probs', null, null],
    ];
    const mark = (value: number, target: number | null, atLeast: boolean) =>
      target === null
        ? ''
        : ` (target ${atLeast ? '≥' : '≤'} ${target.toFixed(1)} ${(atLeast ? value >= target : value <= target) ? 'met' : 'NOT met'})`;
    for (const mine of oursBf16.flatMap((l) => [l, `${l}, ref_model_dtype bf16`, `${l}, ref bf16, gradient_checkpointing`])) {
      const o = summary(mine);
      if (!o) continue;
      console.log(`\n${mine} ÷ peer`);
      for (const [peer, tpsTarget, rssTarget] of targets) {
        const p = summary(peer);
        if (!p) continue;
        const tps = o.tps / p.tps;
        const rss = o.rss / p.rss;
        console.log(
          `  ÷ ${peer.padEnd(36)} tok/s ${tps.toFixed(2)}${mark(tps, tpsTarget, true)}   peak RSS ${rss.toFixed(2)}${mark(rss, rssTarget, false)}`,
        );
      }
    }
    console.log(`uptime at end: ${uptime()}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
