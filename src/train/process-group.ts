// A training worker joins the process group its environment describes: torchrun's contract (RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), as `alpha-dpo train
// --nproc_per_node N`, torchrun, a Slurm script or a Kubernetes PyTorchJob set it. Without
// WORLD_SIZE > 1 (or with a group the caller already joined) nothing happens.
import { availableParallelism } from 'node:os';
import * as torch from '../tensor/torch.js';
import { type TrainConfig, TrainConfigError } from './train-config.js';

export interface JoinedGroup {
  rank: number;
  worldSize: number;
  /** Leaves the group (destroyProcessGroup). */
  leave(): void;
}

function envInteger(name: string): number | null {
  const text = process.env[name];
  if (text === undefined || text === '') return null;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new TrainConfigError('ddp_backend', `the environment variable ${name} must be a whole number ≥ 0, got ${JSON.stringify(text)}.`);
  }
  return n;
}

/**
 * Threads per worker when the launcher left OMP_NUM_THREADS unset: the machine's cores shared
 * by the workers on it (LOCAL_WORLD_SIZE), so N workers do not run N × cores threads.
 */
function shareCores(): void {
  if (process.env.OMP_NUM_THREADS) return;
  const local = envInteger('LOCAL_WORLD_SIZE');
  if (local === null || local < 2) return;
  torch.setNumThreads(Math.max(1, Math.floor(availableParallelism() / local)));
}

/** Joins the group when WORLD_SIZE > 1 and none is joined yet; null otherwise. */
export function joinProcessGroupFromEnv(config: TrainConfig, log: (line: string) => void): JoinedGroup | null {
  const worldSize = envInteger('WORLD_SIZE');
  if (worldSize === null || worldSize < 2 || torch.distributed.isInitialized()) return null;
  const rank = envInteger('RANK');
  if (rank === null) {
    throw new TrainConfigError(
      'ddp_backend',
      `WORLD_SIZE is ${worldSize} but RANK is not set: start workers with alpha-dpo train --nproc_per_node N, torchrun, or set RANK (e.g. from SLURM_PROCID).`,
    );
  }
  const backend = config.ddp_backend ?? 'gloo';
  if (backend === 'nccl') {
    throw new TrainConfigError(
      'ddp_backend',
      "'nccl' reduces CUDA tensors, but the trainer keeps the models on the CPU: use 'gloo' (the default). torch.distributed with 'nccl' is available to your own code in an addon built against a CUDA libtorch.",
    );
  }
  shareCores();
  if (rank === 0) log(`joining a ${backend} process group of ${worldSize} at ${process.env.MASTER_ADDR}:${process.env.MASTER_PORT}`);
  torch.distributed.initProcessGroup({ backend, rank, worldSize, timeout: config.ddp_timeout });
  return { rank, worldSize, leave: () => void torch.distributed.destroyProcessGroup() };
}
