// Models the machine's cycle counter (the TSC, DESIGN.md §8): one per system, charged by every layer through
// charge(kind, count) at the points where the action happens, with a machine profile saying what each action
// costs. Time is attributed to whoever the CPU works for: the running process in user mode, or the kernel on
// its behalf. Entry points: CycleClock (charge, setOwner, retire, micros), KERNEL_KINDS.
// DIVERGES: charging observes and never changes what runs next; alarms follow `Kernel.now`, not this counter.
import { COST_KINDS, K } from './profile.ts';
import type { CostKind, CostProfile } from './profile.ts';

/** The kinds that are the running process's own time (VM's and DS's work included); the others are the kernel's. */
const USER_KINDS: readonly CostKind[] = [
  'tlbMiss',
  'pteWrite',
  'vmRequest',
  'vmPage',
  'frameAlloc',
  'slabAlloc',
  'dsRequest',
];

/** The kinds charged to the kernel (on behalf of the running process); the others are the process's own time. */
export const KERNEL_KINDS: readonly CostKind[] = COST_KINDS.filter((k) => !USER_KINDS.includes(k));

const N_KINDS = COST_KINDS.length;
const COPY_CALL = K.copyCall;
const COPY_BYTE = K.copyByte;
/** 1 for a kernel kind, 0 for a user one: the offset of the kind's owner slot (user, kernel). */
const MODE = new Uint8Array(N_KINDS);
for (const k of KERNEL_KINDS) MODE[K[k]] = 1;

/** The cycle counter of one system. Cycles are plain numbers (exact up to 2^53). */
export class CycleClock {
  /** Cycles since boot. */
  cycles = 0;
  /** Occurrences charged per kind (bytes for copyByte, pages for vmPage and zeroPage). */
  readonly countByKind = new Float64Array(N_KINDS);
  /** Cycles charged per kind, indexed by `K` (src/hw/profile.ts): each kind's count times its cost, in a new array. */
  get byKind(): Float64Array {
    // Derived rather than summed on every charge: one addition less on the hot path.
    return this.countByKind.map((n, kind) => n * (this.cost[kind] ?? 0));
  }
  /** Per owner two slots, user then kernel; the owner is a process-table index, the last one is 'no process'. */
  byOwner = new Float64Array(2);
  /** Cycles of process slots since reused (time of processes that have ended), user then kernel. */
  readonly retired = new Float64Array(2);
  /** When set, [cycle, endpoint] pairs of every change of running process (for the Chrome export's slices). */
  runLog: number[] | null = null;
  private readonly cost = new Float64Array(N_KINDS);
  private ownerBase = 0;
  /** Nesting depth of {@link offClock}: while above 0 nothing is charged. */
  private off = 0;

  /**
   * A counter at zero for a machine described by `profile`.
   * @param profile What each action costs (validated beforehand: see profileProblems).
   * @param enabled False: the accounting is switched off (SystemConfig.accounting): nothing is ever charged and the
   *   counter stays at zero, which measures what the accounting itself costs the host.
   */
  constructor(
    readonly profile: CostProfile,
    readonly enabled = true,
  ) {
    // Switched off is one permanent level of offClock: charge() keeps its one flag test and returns.
    if (!enabled) this.off = 1;
    for (const k of COST_KINDS)
      this.cost[K[k]] = k === 'copyByte' ? profile.clockMHz / profile.copyMBps : profile[k];
  }

  /** Sizes the owner table for `owners` process slots (plus 'no process', which is owner `owners`). */
  attach(owners: number): void {
    this.byOwner = new Float64Array(2 * (owners + 1));
    this.ownerBase = 2 * owners;
  }

  /** Charges `count` occurrences of `kind` (an index of `K` (src/hw/profile.ts)) to the current owner. The hot path: adds only. */
  charge(kind: number, count = 1): void {
    if (this.off !== 0) return;
    const c = (this.cost[kind] ?? 0) * count;
    this.cycles += c;
    this.countByKind[kind] = (this.countByKind[kind] ?? 0) + count;
    const i = this.ownerBase + (MODE[kind] ?? 0);
    this.byOwner[i] = (this.byOwner[i] ?? 0) + c;
  }

  /**
   * Runs `work` off the clock: what the model's own checkers and the host's inspection do (sanity checks, reading
   * memory for a snapshot or a comparison) is not the simulated machine's work, so it costs no simulated time and
   * the times are the same at every sanity level.
   */
  offClock<T>(work: () => T): T {
    this.off++;
    try {
      return work();
    } finally {
      this.off--;
    }
  }

  /** A kernel copy of `bytes` bytes (phys_copy): a fixed setup cost, then the bytes at the profile's bandwidth. */
  chargeCopy(bytes: number): void {
    this.charge(COPY_CALL);
    this.charge(COPY_BYTE, bytes);
  }

  /** The CPU now works for owner `owner` (endpoint `endpoint`, for the run log). */
  setOwner(owner: number, endpoint: number): void {
    this.ownerBase = 2 * owner;
    if (this.runLog !== null) this.runLog.push(this.cycles, endpoint);
  }

  /** A process slot is reused: its time moves to {@link retired}. */
  retire(owner: number): void {
    for (let m = 0; m < 2; m++) {
      this.retired[m] = (this.retired[m] ?? 0) + (this.byOwner[2 * owner + m] ?? 0);
      this.byOwner[2 * owner + m] = 0;
    }
  }

  /** Cycles of owner `owner` in user mode and in the kernel on its behalf. */
  ownerCycles(owner: number): {
    /** Cycles in user mode. */
    user: number;
    /** Cycles in the kernel on its behalf. */
    kernel: number;
  } {
    return { user: this.byOwner[2 * owner] ?? 0, kernel: this.byOwner[2 * owner + 1] ?? 0 };
  }

  /** Cycles in microseconds at the profile's clock rate. */
  micros(cycles: number = this.cycles): number {
    return cycles / this.profile.clockMHz;
  }
}
