// What a run cost in simulated time (DESIGN.md §8): the figures `grantvm compare` sets side by side, and the
// time per process, in the kernel on its behalf, and per cost kind that `inspect` shows. Read from the system's
// cycle counter and counters; nothing here charges. Entry points: costFigures, timeReport, CostFigures, TimeReport.
import { NONE, NR_TASKS } from '../include/endpoint.ts';
import { COST_KINDS, K } from '../hw/profile.ts';
import type { CostKind } from '../hw/profile.ts';
import { PAGE_SIZE } from '../lib/units.ts';
import type { System } from './system.ts';

/** The headline figures of a run (`grantvm compare`). */
export interface CostFigures {
  /** The cost profile's name. */
  profile: string;
  /** Simulated time in microseconds. */
  micros: number;
  /** Simulated time in cycles. */
  cycles: number;
  /** Kernel entries (traps, the trace's steps). */
  kernelEntries: number;
  /** IPC operations. */
  ipc: number;
  /** Page faults. */
  pageFaults: number;
  /** Requests VM handled: calls, page faults and kernel memory requests. */
  vmRequests: number;
  /** Bytes the kernel copied (safecopy, IPC vectors, VM's copies) in 4 KiB pages. */
  pagesCopied: number;
  /** Physical frames in use at the end (VM's count). */
  frames: number;
}

/** The headline figures of `sys` now. */
export function costFigures(sys: System): CostFigures {
  const c = sys.clock;
  return {
    profile: c.profile.name,
    micros: c.micros(),
    cycles: c.cycles,
    kernelEntries: sys.kernel.step,
    ipc: sys.kernel.counts.ipc,
    pageFaults: sys.kernel.counts.pageFaults,
    vmRequests: c.countByKind[K.vmRequest] ?? 0,
    pagesCopied: (c.countByKind[K.copyByte] ?? 0) / PAGE_SIZE,
    frames: sys.vm.usedPages(),
  };
}

/** Where simulated time went (Snapshot.time): µs per process (user and kernel), per kind, in total. */
export interface TimeReport {
  /** The cost profile's name. */
  profile: string;
  /** Simulated time since boot, µs. */
  totalMicros: number;
  /** Time in the kernel (on behalf of any process), µs. */
  kernelMicros: number;
  /** Time of processes that have ended (user and kernel), µs. */
  endedMicros: number;
  /** Live processes with any time, and '(no process)' for work before any ran: µs in user mode and in the kernel on their behalf. */
  procs: {
    /** The process's endpoint. */
    endpoint: number;
    /** Its name. */
    name: string;
    /** µs it ran in user mode (servers: serving requests). */
    userMicros: number;
    /** µs the kernel worked on its behalf (traps, IPC, kernel calls, copies, faults). */
    kernelMicros: number;
  }[];
  /** µs and occurrences per cost kind, for kinds charged at all. */
  kinds: {
    /** The cost kind. */
    kind: CostKind;
    /** µs charged to it. */
    micros: number;
    /** Occurrences (bytes for copyByte, pages for vmPage and zeroPage). */
    count: number;
  }[];
}

/** The time report of `sys` now. */
export function timeReport(sys: System): TimeReport {
  const c = sys.clock;
  const procs: TimeReport['procs'] = [];
  let kernel = c.retired[1] ?? 0;
  for (const p of sys.kernel.procs) {
    const t = c.ownerCycles(p.slot + NR_TASKS);
    kernel += t.kernel;
    if (p.inUse && t.user + t.kernel > 0) {
      procs.push({
        endpoint: p.endpoint,
        name: p.name,
        userMicros: c.micros(t.user),
        kernelMicros: c.micros(t.kernel),
      });
    }
  }
  const none = c.ownerCycles(sys.kernel.procs.length);
  kernel += none.kernel;
  // Work done before any process ran (VM's boot-time allocations) or between processes.
  if (none.user + none.kernel > 0)
    procs.push({
      endpoint: NONE,
      name: '(no process)',
      userMicros: c.micros(none.user),
      kernelMicros: c.micros(none.kernel),
    });
  const kinds = COST_KINDS.map((kind) => ({
    kind,
    micros: c.micros(c.byKind[K[kind]] ?? 0),
    count: c.countByKind[K[kind]] ?? 0,
  })).filter((k) => k.count > 0);
  return {
    profile: c.profile.name,
    totalMicros: c.micros(),
    kernelMicros: c.micros(kernel),
    endedMicros: c.micros((c.retired[0] ?? 0) + (c.retired[1] ?? 0)),
    procs,
    kinds,
  };
}
