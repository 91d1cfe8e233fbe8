// The PyTorch peer: peer.py in a child Python process, spoken to one JSON line at a time.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RoundRequest, RoundResult } from './cases.js';

export const PEER_SCRIPT = fileURLToPath(new URL('./peer.py', import.meta.url));

export interface PeerHello {
  torchVersion: string;
  python: string;
  /** The OpenMP and BLAS settings in the peer's environment. */
  env: Record<string, string>;
  blas: string | null;
}

export type PeerStart = { ok: true; peer: Peer } | { ok: false; reason: string };

type Reply = { ok: true } & Record<string, unknown>;

export class Peer {
  readonly hello: PeerHello;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  readonly #stderr: () => string;

  private constructor(child: ChildProcessWithoutNullStreams, lines: AsyncIterator<string>, stderr: () => string, hello: PeerHello) {
    this.#child = child;
    this.#lines = lines;
    this.#stderr = stderr;
    this.hello = hello;
  }

  /**
   * Starts `python peer.py` with `env`. Resolves to a reason instead of a peer when Python is
   * missing or cannot import torch, so the caller can still report our own numbers.
   */
  static async start(python: string, env: NodeJS.ProcessEnv): Promise<PeerStart> {
    const child = spawn(python, [PEER_SCRIPT], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let spawnError: Error | undefined;
    child.once('error', (e) => {
      spawnError = e;
    });
    // A write to a peer that has died fails here; the caller learns of it from the closed stdout.
    child.stdin.on('error', () => {});
    // The tail of the child's stderr, to explain a failure (a Python traceback ends there).
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const first = await lines.next();
    if (first.done) {
      // 'close' comes after any spawn 'error' and after stderr has drained, so both are known then.
      await closed;
      const detail = spawnError?.message ?? (stderr.trim() || 'no output');
      return { ok: false, reason: `cannot run ${python} ${PEER_SCRIPT}: ${detail}` };
    }
    const hello = JSON.parse(first.value) as ({ ok: true } & PeerHello) | { ok: false; error: string };
    if (!hello.ok) {
      child.kill();
      return { ok: false, reason: `${python} cannot import torch (${hello.error})` };
    }
    return { ok: true, peer: new Peer(child, lines, () => stderr.trim(), hello) };
  }

  async #request(message: object): Promise<Reply> {
    this.#child.stdin.write(`${JSON.stringify(message)}\n`);
    const line = await this.#lines.next();
    if (line.done) throw new Error(`the PyTorch peer exited${this.#stderr() ? `: ${this.#stderr()}` : ''}`);
    const reply = JSON.parse(line.value) as Reply | { ok: false; error: string };
    if (!reply.ok) throw new Error(`the PyTorch peer failed: ${reply.error}`);
    return reply;
  }

  /** Asks for our intra-op thread count; returns libtorch's default in Python and the count now in use. */
  async init(threads: number): Promise<{ defaultThreads: number; threads: number }> {
    const reply = await this.#request({ op: 'init', threads });
    return reply as unknown as { defaultThreads: number; threads: number };
  }

  async round(req: RoundRequest): Promise<RoundResult> {
    const reply = await this.#request({ op: 'round', ...req });
    return reply as unknown as RoundResult;
  }

  /** CPU seconds the peer process has used (all threads), for the disturbance estimate. */
  async cpuSeconds(): Promise<number> {
    const reply = await this.#request({ op: 'usage' });
    return reply.cpuSeconds as number;
  }

  /** Closes stdin, which ends peer.py's read loop, and waits for the process to go. */
  async close(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.stdin.end();
    await exited;
  }
}
