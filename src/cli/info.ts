// `alpha-dpo info`: the package and libtorch versions, threads and devices of this installation.
import { defaultAttentionImplementation } from '../nn/attention.js';
import * as torch from '../tensor/torch.js';
import type { CommandIO } from './command.js';
import { packageVersion } from './package-version.js';

export async function runInfo(_args: string[], io: CommandIO): Promise<number> {
  const info = torch.buildInfo();
  io.out(`alpha-dpo ${packageVersion()}\n`);
  io.out(`libtorch ${info.torchVersion} (C++11 ABI: ${info.cxx11Abi})\n`);
  if (process.env.ALPHA_DPO_ADDON) io.out(`addon: ${process.env.ALPHA_DPO_ADDON} (from ALPHA_DPO_ADDON)\n`);
  io.out(
    `threads: ${torch.getNumThreads()} intra-op, ${torch.getNumInteropThreads()} inter-op; OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}\n`,
  );
  io.out(`malloc: ${torch.mallocSettings()}\n`);
  const fromEnvironment = process.env.ALPHA_DPO_ATTENTION ? ' (from ALPHA_DPO_ATTENTION)' : '';
  io.out(`attention: ${defaultAttentionImplementation}${fromEnvironment}\n`);
  io.out(`CUDA: ${torch.cuda.isAvailable() ? `${torch.cuda.deviceCount()} device(s)` : 'not available'}\n`);
  return 0;
}
