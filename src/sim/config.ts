// Every capacity and switch of a grantvm system in one record, with the reference's defaults
// (DESIGN.md §5, spec/vm.md §1, spec/grants.md §1, spec/ds.md §1). Entry points: SystemConfig,
// defaultConfig, resolveConfig.
import type { CostProfile } from '../hw/profile.ts';
import { resolveProfile } from '../hw/profile.ts';
import type { TraceSink } from '../include/trace.ts';
import type { Chooser } from '../kernel/scheduler.ts';
import type { KProc } from '../kernel/proc.ts';
import { MEM_HOLE_BASE } from '../include/vm.ts';
import { KiB, MiB } from '../lib/units.ts';

/**
 * When VM's full sanity check runs (vm.md §10): 'off' never; 'top' after every VM request, page fault and kernel
 * memory request; 'functions' also at entry and exit of every VM handler and core operation; 'detail' also between
 * the internal steps of core operations. Any level but 'off' also checks the grant and DS records at every kernel entry.
 */
export type SanityLevel = 'off' | 'top' | 'functions' | 'detail';

/** Everything a system is booted with; {@link createSystem} takes any part of it over {@link defaultConfig}. */
export interface SystemConfig {
  /** Simulated RAM in bytes (a multiple of 4096, at most 4 GiB). */
  ramBytes: number;
  /** Slots in the process table (NR_PROCS). */
  nrProcs: number;
  /** Bytes the kernel image occupies at the bottom of RAM, from 0x1000 (at most 636 KiB: it ends below the 640 KiB memory hole). */
  kernelBytes: number;
  /** Seed of every random choice (the 'random' scheduler). */
  seed: number;
  /** 'priority': MINIX's queues, round robin within a priority; 'random': a seeded choice among runnable processes. */
  schedule: 'priority' | 'random';
  /** A test's own scheduling choice among runnable processes. */
  chooser?: Chooser;
  /** Kernel entries a process may make before it is preempted. */
  quantum: number;
  /** How much checking: VM's sanity checks at this level, and with anything but 'off' the grant and DS records at every kernel entry. */
  sanity: SanityLevel;
  /** Entries of each process's simulated TLB. */
  tlbEntries: number;
  /** Pages VM keeps in reserve for its own allocations (SPAREPAGES). */
  sparePages: number;
  /** 'generational' grant ids (a sequence number guards reused slots) or 'legacy' (the 2010 slot index). */
  grantIds: 'generational' | 'legacy';
  /** The copy-on-write safecopy optimisation: large page-aligned copies share pages instead of copying them. */
  cowSafecopy: boolean;
  /**
   * How VM breaks copy-on-write sharing on a write: 'block' (MINIX) copies the whole shared block, 'page' (a what-if,
   * not MINIX) splits the block and copies only the pages written. Bytes and return codes are the same either way.
   */
  cowBreak: 'block' | 'page';
  /** Safemap records the kernel keeps (MAX_MAP_INFO). */
  maxMapInfo: number;
  /** Entries DS's table holds (ds.md §1). */
  dsMaxKeys: number;
  /** Subscriptions DS's table holds (ds.md §1). */
  dsMaxSubs: number;
  /** Who may publish labels in DS: any process, or RS only. */
  dsLabelPolicy: 'any' | 'rs-only';
  /** Where trace events go: kept in memory ('memory'), a sink of the host's, or nowhere (null). */
  trace: 'memory' | TraceSink | null;
  /**
   * A runaway guard: once the kernel has counted this many entries, run() stops the system and throws a
   * StepLimitError naming the process that was running (default: no limit).
   */
  stepLimit: number;
  /**
   * A host's watch on the run, called at every kernel entry and whenever the CPU changes hands, with the step
   * and the process that runs (null: none, the host has the CPU back); it must change nothing.
   */
  watch?: (step: number, proc: KProc | null) => void;
  /**
   * The cost model's machine profile: a built-in name ('i386-2010', 'modern-x86') or a profile object. It sets
   * what simulated time each action costs and never changes what runs (docs/cost-model.md).
   */
  profile: string | CostProfile;
  /**
   * The cost model's accounting (default on). Off, nothing is charged, simulated time stays 0 and trace events carry
   * no `t`; what runs is the same. For measuring what the accounting costs the host (`grantvm bench accounting`).
   */
  accounting: boolean;
}

/** The reference's defaults: 64 MiB of RAM, 100 process slots, priority scheduling, seed 1, sanity 'off', trace kept in memory. */
export const defaultConfig: SystemConfig = {
  ramBytes: 64 * MiB,
  nrProcs: 100,
  kernelBytes: 128 * KiB,
  seed: 1,
  schedule: 'priority',
  quantum: 500,
  sanity: 'off',
  tlbEntries: 64,
  sparePages: 25,
  grantIds: 'generational',
  cowSafecopy: true,
  cowBreak: 'block',
  maxMapInfo: 20,
  dsMaxKeys: 64,
  dsMaxSubs: 128,
  dsLabelPolicy: 'any',
  trace: 'memory',
  stepLimit: Number.POSITIVE_INFINITY,
  profile: 'i386-2010',
  accounting: true,
};

/** A complete config from a partial one; bad values panic-free: they come back as a list of problems. */
export function resolveConfig(partial: Partial<SystemConfig> = {}): {
  /** `partial` over {@link defaultConfig}. */
  config: SystemConfig;
  /** One line per bad value (empty when the config can boot); {@link createSystem} throws them as a {@link ConfigError}. */
  problems: string[];
} {
  const config: SystemConfig = { ...defaultConfig, ...partial };
  const problems: string[] = [];
  const intIn = (name: keyof SystemConfig, lo: number, hi: number): void => {
    const v = config[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) problems.push(`${name} must be an integer in [${lo}, ${hi}], got ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  };
  intIn('ramBytes', 4 * MiB, 4 * 1024 * MiB);
  if (config.ramBytes % 4096 !== 0) problems.push('ramBytes must be a multiple of 4096');
  intIn('nrProcs', 16, 1024);
  // The kernel sits at 0x1000 and must end below the memory hole at 640 KiB (spec/vm.md §12.3).
  intIn('kernelBytes', 4096, MEM_HOLE_BASE - 0x1000);
  intIn('quantum', 1, 1_000_000);
  intIn('tlbEntries', 1, 4096);
  intIn('sparePages', 0, 4096);
  intIn('maxMapInfo', 0, 100_000);
  intIn('dsMaxKeys', 16, 100_000);
  intIn('dsMaxSubs', 1, 100_000);
  if (!Number.isInteger(config.seed)) problems.push('seed must be an integer');
  if (config.cowBreak !== 'block' && config.cowBreak !== 'page') problems.push(`cowBreak must be 'block' or 'page', got ${String(config.cowBreak)}`);
  if (config.stepLimit !== Number.POSITIVE_INFINITY) intIn('stepLimit', 1, Number.MAX_SAFE_INTEGER);
  problems.push(...resolveProfile(config.profile).problems);
  return { config, problems };
}
