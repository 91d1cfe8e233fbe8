// torch.distributed: one process group per process over libtorch's c10d (native/src/distributed.cc),
// with PyTorch's names and semantics. Rank 0 hosts the TCPStore rendezvous at MASTER_ADDR:MASTER_PORT;
// 'gloo' reduces CPU tensors, 'nccl' CUDA tensors (only in an addon built against a CUDA libtorch with
// NCCL; untested). Collectives are synchronous and in place, like PyTorch's without async_op, and
// never wait longer than the group's timeout: a dead or stuck rank becomes a DistributedError naming it.
import { AlphaDpoError } from '../errors.js';
import { native } from '../native/binding.js';
import { Tensor } from './tensor.js';

export type Backend = 'gloo' | 'nccl';
/** ReduceOp: 'avg' is the sum divided by the world size (Gloo has no AVG; PyTorch documents the same). */
export type ReduceOp = 'sum' | 'avg' | 'max' | 'min' | 'product';

export interface InitProcessGroupOptions {
  /** 'gloo' (CPU tensors, the default) or 'nccl' (CUDA tensors). */
  backend?: Backend;
  /** 'env://' (the default: MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE) or 'tcp://HOST:PORT'. */
  initMethod?: string;
  /** The rendezvous store's address, instead of initMethod (rank 0 listens there, the others connect). */
  store?: { host: string; port: number };
  /** This process's rank, 0 … worldSize − 1 (default: $RANK). */
  rank?: number;
  /** Number of processes (default: $WORLD_SIZE). */
  worldSize?: number;
  /** Seconds any rendezvous or collective may wait before it fails (default 1800, PyTorch's). */
  timeout?: number;
}

/** A process-group problem: c10d missing from the addon, bad options, or a collective that failed or timed out. */
export class DistributedError extends AlphaDpoError {}

const DEFAULT_TIMEOUT_SECONDS = 1800;

/** Which backends the loaded addon was built with (none when the linked libtorch lacked c10d or Gloo's headers). */
export function availableBackends(): Backend[] {
  const info = native.distBuildInfo?.();
  if (!info) return [];
  return [...(info.gloo ? (['gloo'] as const) : []), ...(info.nccl ? (['nccl'] as const) : [])];
}

/** Whether this addon has torch.distributed at all (torch.distributed.is_available()). */
export function isAvailable(): boolean {
  return availableBackends().length > 0;
}

function missingBackend(backend: Backend): DistributedError {
  if (!native.distBuildInfo) {
    return new DistributedError(
      'torch.distributed: the loaded addon predates torch.distributed; rebuild it with `npm run build:native` (or the --out build ALPHA_DPO_ADDON names).',
    );
  }
  if (backend === 'nccl') {
    return new DistributedError(
      "torch.distributed: backend 'nccl' needs an addon built against a CUDA libtorch with NCCL (nccl.h on the include path); " +
        `this one has ${availableBackends().join(', ') || 'no backend'}. Use backend 'gloo' for CPU tensors.`,
    );
  }
  return new DistributedError(
    'torch.distributed: this addon was built without c10d/Gloo. The linked libtorch needs torch/csrc/distributed/c10d headers and ' +
      'ProcessGroupGloo (Debian libtorch-dev 1.13 and the PyTorch 2.x wheels have them) and Gloo headers ' +
      '(Debian/Ubuntu: apt-get install libgloo-dev, or bash scripts/setup.sh); then rebuild with `npm run build:native`. ' +
      '`npm run build:native` prints what it found.',
  );
}

function wholeNumber(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw new DistributedError(
      `torch.distributed.initProcessGroup: ${name} must be a whole number in [${min}, ${max}], got ${String(value)}.`,
    );
  }
  return value;
}

function fromEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n))
    throw new DistributedError(`torch.distributed: $${name} must be a whole number, got ${JSON.stringify(text)}.`);
  return n;
}

/** host and port from options.store, else initMethod ('tcp://HOST:PORT' or 'env://'). */
function storeAddress(options: InitProcessGroupOptions): { host: string; port: number } {
  if (options.store && options.initMethod !== undefined) {
    throw new DistributedError('torch.distributed.initProcessGroup: give initMethod or store, not both.');
  }
  if (options.store) return { host: options.store.host, port: wholeNumber('store.port', options.store.port, 1, 65535) };
  const method = options.initMethod ?? 'env://';
  if (method === 'env://') {
    const host = process.env.MASTER_ADDR;
    const port = fromEnv('MASTER_PORT');
    if (!host || port === undefined) {
      throw new DistributedError(
        "torch.distributed.initProcessGroup: initMethod 'env://' needs MASTER_ADDR and MASTER_PORT in the environment " +
          "(the launcher sets them), or pass initMethod: 'tcp://HOST:PORT'.",
      );
    }
    return { host, port: wholeNumber('MASTER_PORT', port, 1, 65535) };
  }
  const m = /^tcp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(method);
  if (!m) {
    throw new DistributedError(
      `torch.distributed.initProcessGroup: initMethod ${JSON.stringify(method)} is not 'env://' or 'tcp://HOST:PORT' (file:// is not supported).`,
    );
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port: wholeNumber('the initMethod port', Number(m[2]), 1, 65535) };
}

/** Runs a native call, turning libtorch's and c10d's errors into DistributedErrors with the same message. */
function collective<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof AlphaDpoError && !(e instanceof DistributedError)) throw new DistributedError(e.message, { cause: e });
    throw e;
  }
}

/**
 * Joins the process group (torch.distributed.init_process_group): blocks until all worldSize
 * ranks have joined, or fails after `timeout` seconds. Rank 0 hosts the store; a port already in
 * use there is a DistributedError saying so.
 */
export function initProcessGroup(options: InitProcessGroupOptions = {}): void {
  const backend = options.backend ?? 'gloo';
  if (backend !== 'gloo' && backend !== 'nccl') {
    throw new DistributedError(`torch.distributed.initProcessGroup: backend must be 'gloo' or 'nccl', got ${JSON.stringify(backend)}.`);
  }
  if (!availableBackends().includes(backend)) throw missingBackend(backend);
  if (isInitialized())
    throw new DistributedError('torch.distributed.initProcessGroup: already initialised; call destroyProcessGroup() first.');
  const worldSize = wholeNumber('worldSize ($WORLD_SIZE)', options.worldSize ?? fromEnv('WORLD_SIZE'), 1);
  const rank = wholeNumber('rank ($RANK)', options.rank ?? fromEnv('RANK'), 0, worldSize - 1);
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_SECONDS;
  if (typeof timeout !== 'number' || !(timeout > 0) || !Number.isFinite(timeout)) {
    throw new DistributedError(`torch.distributed.initProcessGroup: timeout is in seconds and must be > 0, got ${String(timeout)}.`);
  }
  const { host, port } = storeAddress(options);
  try {
    native.distInit(backend, host, port, rank, worldSize, Math.round(timeout * 1000));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const inUse = /address already in use|EADDRINUSE/i.test(message);
    throw new DistributedError(
      inUse && rank === 0
        ? `torch.distributed.initProcessGroup: port ${port} on ${host} is already in use, so rank 0 cannot host the rendezvous there; ` +
            'choose another master_port (MASTER_PORT) or stop the process that holds it.'
        : `torch.distributed.initProcessGroup: rank ${rank} of ${worldSize} could not join the group at ${host}:${port} within ${timeout} s: ${message}`,
      { cause: e },
    );
  }
}

/** torch.distributed.is_initialized(). */
export function isInitialized(): boolean {
  return native.distBuildInfo !== undefined && isAvailable() && native.distRank() >= 0;
}

/** Leaves the group and frees its connections; false when there was none. */
export function destroyProcessGroup(): boolean {
  return isAvailable() ? native.distDestroy() : false;
}

function requireGroup(what: string): void {
  if (!isInitialized())
    throw new DistributedError(`torch.distributed.${what}: no process group; call torch.distributed.initProcessGroup() first.`);
}

/** This process's rank (torch.distributed.get_rank()). */
export function getRank(): number {
  requireGroup('getRank');
  return native.distRank();
}

/** Number of processes in the group (torch.distributed.get_world_size()). */
export function getWorldSize(): number {
  requireGroup('getWorldSize');
  return native.distWorldSize();
}

/** Reduces `tensor` across all ranks, in place (every rank gets the result). The tensor must be contiguous. */
export function allReduce(tensor: Tensor, op: ReduceOp = 'sum'): void {
  requireGroup('allReduce');
  collective(() => native.distAllReduce(tensor.handle, op));
}

/** Copies rank `src`'s `tensor` into every other rank's, in place. */
export function broadcast(tensor: Tensor, src = 0): void {
  requireGroup('broadcast');
  collective(() => native.distBroadcast(tensor.handle, src));
}

/** Every rank's `tensor` (all the same shape), in rank order: new tensors the caller owns. */
export function allGather(tensor: Tensor): Tensor[] {
  requireGroup('allGather');
  return collective(() => native.distAllGather(tensor.handle)).map((h) => Tensor.fromHandle(h));
}

/** Waits until every rank has reached it. */
export function barrier(): void {
  requireGroup('barrier');
  collective(() => native.distBarrier());
}
