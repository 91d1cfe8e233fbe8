// How busy the machine was with other work while the benchmark ran. On a small machine one
// compile or test run in the background halves a side's throughput for a few rounds, so each
// turn is checked (and rerun when disturbed) and the report says how much CPU time went to
// anything other than the two benchmark processes.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

// Linux's USER_HZ: /proc/stat counts in these ticks; 100 on every mainstream architecture.
const TICKS_PER_SECOND = 100;

interface CpuTimes {
  /** CPU seconds spent outside the idle and iowait states, all CPUs together, since boot. */
  busy: number;
  /** CPU seconds the hypervisor gave to other guests (a VM's noisy neighbours). */
  steal: number;
}

/** The machine's CPU times from /proc/stat, or null where there is none. */
function machineCpuTimes(): CpuTimes | null {
  let stat: string;
  try {
    stat = readFileSync('/proc/stat', 'utf8');
  } catch {
    return null;
  }
  const fields = stat.split('\n', 1)[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  // user nice system idle iowait irq softirq steal (guest time is already inside user)
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: (user + nice + system + irq + softirq) / TICKS_PER_SECOND, steal: steal / TICKS_PER_SECOND };
}

/** This process's CPU seconds (all threads). */
function ownCpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

export interface Disturbance {
  /** CPU seconds used by other processes. */
  otherCpuSeconds: number;
  stealSeconds: number;
  /** Share of the machine's capacity (CPUs x wall time) that went to them. */
  share: number;
}

/** Measures, from its creation on, the CPU time that processes other than the benchmark's used. */
export class CpuMeter {
  readonly #machine = machineCpuTimes();
  readonly #own = ownCpuSeconds();
  readonly #start = performance.now();

  /**
   * Other processes' CPU time so far: the machine's busy time less this process's and the
   * `peerCpuSeconds` the peer reports for the same span. Null where /proc/stat is missing.
   */
  read(peerCpuSeconds: number): Disturbance | null {
    const end = machineCpuTimes();
    if (this.#machine === null || end === null) return null;
    const wall = (performance.now() - this.#start) / 1e3;
    // Clipped at 0: ticks are coarse (10 ms), so a quiet span can come out slightly negative.
    const other = Math.max(0, end.busy - this.#machine.busy - (ownCpuSeconds() - this.#own) - peerCpuSeconds);
    const steal = end.steal - this.#machine.steal;
    return { otherCpuSeconds: other, stealSeconds: steal, share: wall > 0 ? (other + steal) / (wall * cpus().length) : 0 };
  }
}
