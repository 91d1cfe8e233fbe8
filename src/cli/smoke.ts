// `alpha-dpo smoke`: a short end-to-end run of the engine on this machine: build info, a
// matmul throughput figure, small-op latency, and a tiny MLP trained with autograd.
import * as torch from '../torch.js';
import { type CommandIO, lineWriter } from './command.js';

function timeIt(fn: () => void, minMs: number): number {
  fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    n++;
  }
  return (performance.now() - start) / n;
}

export function runSmoke(log: (line: string) => void): { finalLoss: number; initialLoss: number } {
  const info = torch.buildInfo();
  log(
    `libtorch ${info.torchVersion}, ${torch.getNumThreads()} intra-op thread(s), CUDA ${torch.cuda.isAvailable() ? 'available' : 'not available'}`,
  );

  const a = torch.randn([1024, 1024]);
  const b = torch.randn([1024, 1024]);
  const ms = timeIt(() => a.matmul(b).dispose(), 500);
  log(`matmul 1024×1024 @ 1024×1024: ${((2 * 1024 ** 3) / (ms * 1e6)).toFixed(1)} GFLOP/s`);
  const x4 = torch.ones([4]);
  const us = timeIt(() => x4.add(x4).dispose(), 200) * 1000;
  log(`add of two 4-element tensors: ${us.toFixed(2)} µs`);
  for (const t of [a, b, x4]) t.dispose();

  // Fit y = sin(3x) on [-1, 1] with a 1-64-64-1 tanh MLP and Adam (written out, 400 steps).
  torch.manualSeed(0);
  const xs = torch.tidy(() => torch.linspace(-1, 1, 256).reshape([256, 1]));
  const ys = torch.tidy(() => xs.mul(3).sin());
  const params = [
    torch.randn([1, 64]).mul_(1.0).requiresGrad_(),
    torch.zeros([64]).requiresGrad_(),
    torch
      .randn([64, 64])
      .mul_(1 / 8)
      .requiresGrad_(),
    torch.zeros([64]).requiresGrad_(),
    torch
      .randn([64, 1])
      .mul_(1 / 8)
      .requiresGrad_(),
    torch.zeros([1]).requiresGrad_(),
  ];
  const m = params.map((p) => torch.zerosLike(p));
  const v = params.map((p) => torch.zerosLike(p));
  const [lr, beta1, beta2, eps] = [0.01, 0.9, 0.999, 1e-8];
  let initialLoss = 0;
  let finalLoss = 0;
  for (let step = 1; step <= 400; step++) {
    const loss = torch.tidy(() => {
      const [w1, b1, w2, b2, w3, b3] = params as [torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor];
      const h = xs.matmul(w1).add(b1).tanh().matmul(w2).add(b2).tanh();
      const l = h.matmul(w3).add(b3).sub(ys).square().mean();
      l.backward();
      torch.noGrad(() => {
        params.forEach((p, i) => {
          const g = p.grad as torch.Tensor;
          (m[i] as torch.Tensor).lerp_(g, 1 - beta1);
          (v[i] as torch.Tensor).mul_(beta2).addcmul_(g, g, 1 - beta2);
          const denom = (v[i] as torch.Tensor)
            .div(1 - beta2 ** step)
            .sqrt()
            .add(eps);
          p.addcdiv_(m[i] as torch.Tensor, denom, -lr / (1 - beta1 ** step));
          g.zero_();
        });
      });
      return l.item();
    });
    if (step === 1) initialLoss = loss;
    finalLoss = loss;
    if (step === 1 || step % 100 === 0) log(`mlp step ${String(step).padStart(3)}  loss ${loss.toFixed(5)}`);
  }
  for (const t of [xs, ys, ...params, ...m, ...v]) {
    t.grad?.dispose();
    t.dispose();
  }
  log(finalLoss < initialLoss / 10 ? 'smoke: ok' : 'smoke: the MLP did not learn: something is wrong');
  return { initialLoss, finalLoss };
}

/** `alpha-dpo smoke`: exit 0 when the tiny MLP's loss fell tenfold. */
export async function runSmokeCommand(_args: string[], io: CommandIO): Promise<number> {
  const { finalLoss, initialLoss } = runSmoke(lineWriter(io.out));
  return finalLoss < initialLoss / 10 ? 0 : 1;
}
