// The host-side API (DESIGN.md §5): createSystem boots a kernel with its boot processes and returns a
// System to start programs on, run, stop, fault-inject, inspect and sanity-check. The CLI, the tests, the
// benchmarks and the browser view use this and nothing else. Entry points: createSystem, System, SpawnHandle.
import { DS_PROC_NR, INIT_PROC_NR, KERNEL, RS_PROC_NR, VFS_PROC_NR } from '../include/endpoint.ts';
import { SIGKILL } from '../include/errno.ts';
import type { TraceEvent, TraceSink } from '../include/trace.ts';
import type { ExecImage } from '../include/vm.ts';
import { MINSTACKREGION, VM_PROCSTART } from '../include/vm.ts';
import { CycleClock } from '../hw/clock.ts';
import { PhysMem } from '../hw/physmem.ts';
import { resolveProfile } from '../hw/profile.ts';
import { kernelNotify } from '../kernel/ipc.ts';
import { grantSanityCheck } from '../kernel/system/do_safemap.ts';
import { Kernel } from '../kernel/kernel.ts';
import type { RunResult } from '../kernel/kernel.ts';
import { makeSystemPriv } from '../kernel/priv.ts';
import { RTS } from '../kernel/proc.ts';
import type { KProc } from '../kernel/proc.ts';
import { panic } from '../lib/assert.ts';
import type { Panic } from '../lib/assert.ts';
import { toProgram } from '../libsys/proc.ts';
import type { Proc, Program } from '../libsys/proc.ts';
import { createDs } from '../servers/ds/main.ts';
import type { DsState } from '../servers/ds/main.ts';
import { createInit } from '../servers/init.ts';
import type { SpawnRequest } from '../servers/init.ts';
import { createPm } from '../servers/pm/main.ts';
import type { PmState } from '../servers/pm/main.ts';
import { createRs } from '../servers/rs/main.ts';
import type { RsRequest, RsState, ServiceRecord } from '../servers/rs/main.ts';
import { createMemoryDriver } from '../servers/memory/main.ts';
import { standInServer } from '../servers/standin.ts';
import type { HostActions } from '../servers/standin.ts';
import { createVm } from '../servers/vm/main.ts';
import type { VmState } from '../servers/vm/main.ts';
import { bootTable, layoutBootImage } from './boot.ts';
import type { BootEntry } from './boot.ts';
import { resolveConfig } from './config.ts';
import type { SystemConfig } from './config.ts';
import { toChromeTrace, traceHash } from './trace.ts';
import { snapshot } from './inspect.ts';
import type { Snapshot } from './inspect.ts';

/** A user program started with spawn(): its endpoint once init forked it, and how it ended. */
export interface SpawnHandle {
  /** The program name given in {@link SpawnOptions} (default 'user'). */
  readonly name: string;
  /** Its endpoint once init has forked it (null before; negative if the fork failed). */
  endpoint: number | null;
  /** Its exit status and the signal that killed it (0 if none), once it has ended. */
  exit: {
    /** Exit status (the program's return value or exit() argument); 0 when killed; the errno when the fork failed. */
    code: number;
    /** The signal that killed it, or 0 when it exited. */
    signal: number;
  } | null;
}

/** Options of {@link System.spawn}. */
export interface SpawnOptions {
  /** The program name (default 'user'). */
  name?: string;
  /** Image sizes and initial bytes; defaults: 4 pages of text, 4 of data, no bss, 64 MiB total. */
  image?: Partial<ExecImage>;
}

/** Thrown by createSystem for a config it cannot boot: one line per problem. */
export class ConfigError extends Error {
  /** 'ConfigError', to tell a bad config from other errors. */
  override readonly name = 'ConfigError';
}

/**
 * A booted machine: the kernel, physical memory and the boot processes (PM, VFS stand-in, RS, DS, VM, init, ...).
 * Made by {@link createSystem}. Start programs with {@link System.spawn} and services with
 * {@link System.startService}; nothing runs until {@link System.run}.
 */
export class System {
  /** The simulated kernel: process table, scheduler, step counter (`kernel.step`), counters (`kernel.counts`). */
  readonly kernel: Kernel;
  /** Physical memory (RAM). */
  readonly mem: PhysMem;
  /** The machine's cycle counter: simulated time under `config.profile` (docs/cost-model.md). */
  readonly clock: CycleClock;
  /** A read-only view of the VM server: regions, blocks, page tables, free memory, its sanity check. */
  readonly vm: VmState;
  /** PM's process table (pids, parents, exit status). */
  readonly pm: PmState;
  /** Trace events as emitted (config.trace 'memory'); their times wait in {@link times} until {@link trace} is read. */
  private readonly events: TraceEvent[] = [];
  /** The cycle counter at each event of {@link events}, by index: a plain store per event, no property added. */
  private readonly times: number[] = [];
  /** Events of {@link events} already given their `t`. */
  private stamped = 0;
  /** Every process that has exited, in order: its endpoint, name, exit status and the signal that killed it (0 if none). */
  readonly exits: {
    /** The endpoint it had. */
    endpoint: number;
    /** Its process name. */
    name: string;
    /** Exit status; 0 when killed. */
    code: number;
    /** The signal that killed it, or 0 when it exited. */
    signal: number;
  }[] = [];
  /** A read-only view of DS: its entries and subscriptions, its sanity check. */
  readonly ds: DsState;
  /** RS's service records: each service's label, restarts and deaths. */
  readonly rs: RsState;
  private readonly spawnQueue: SpawnRequest[] = [];
  private readonly rsQueue: RsRequest[] = [];
  private readonly vfsActions: HostActions = [];
  private readonly handles = new Map<number, SpawnHandle>();

  /**
   * Builds the machine without running it; use {@link createSystem}, which also boots it.
   * @param config The complete configuration it was built with (see {@link resolveConfig}).
   */
  constructor(readonly config: SystemConfig) {
    this.clock = new CycleClock(resolveProfile(config.profile).profile, config.accounting);
    const sink = config.trace === 'memory' ? this.memorySink() : stampedSink(config.trace, this.clock);
    this.mem = new PhysMem(config.ramBytes, { clock: this.clock });
    // Who ran when, for the Chrome export's running slices: kept only while the trace is kept.
    if (config.trace !== null && config.accounting) this.clock.runLog = [];
    this.kernel = new Kernel(this.mem, {
      nrProcs: config.nrProcs,
      quantum: config.quantum,
      tlbEntries: config.tlbEntries,
      schedule: config.schedule,
      seed: config.seed,
      ...(config.chooser !== undefined ? { chooser: config.chooser } : {}),
      signalsToPm: true,
      grantIds: config.grantIds,
      cowSafecopy: config.cowSafecopy,
      maxMapInfo: config.maxMapInfo,
      trace: sink,
    });
    const table = bootTable();
    const boot = layoutBootImage(table, config.ramBytes, config.kernelBytes, config.nrProcs);
    const vm = createVm(
      { sanity: config.sanity, sparePages: config.sparePages, nrProcs: config.nrProcs, tlbEntries: config.tlbEntries, cowBreak: config.cowBreak },
      boot,
      this.mem,
      sink,
    );
    this.vm = vm.state;
    vm.state.setMachineView({ tlbEntries: (slot) => this.kernel.procAt(slot).tlb.entries(), step: () => this.kernel.step });
    const pm = createPm(
      table.map((e) => ({ endpoint: this.kernel.procAt(e.slot).endpoint, name: e.name, system: e.priv !== null })),
      config.nrProcs,
      (x) => {
        this.recordExit(x);
      },
    );
    this.pm = pm.state;
    const ds = createDs(
      { maxKeys: config.dsMaxKeys, maxSubs: config.dsMaxSubs, labelPolicy: config.dsLabelPolicy, sanity: config.sanity !== 'off', trace: sink },
      table.map((e) => ({ label: e.name, endpoint: this.kernel.procAt(e.slot).endpoint })),
    );
    this.ds = ds.state;
    const rs = createRs(this.rsQueue, sink);
    this.rs = rs.state;
    const programs: Record<BootEntry['role'], Program> = {
      pm: pm.program,
      vm: vm.program,
      rs: rs.program,
      ds: ds.program,
      memory: createMemoryDriver({
        ramBytes: config.ramBytes,
        kernelBase: boot.kernelBase,
        kernelBytes: boot.kernelBytes,
        dataBase: VM_PROCSTART + (table.find((e) => e.role === 'memory')?.textPages ?? 0) * 4096,
      }),
      init: createInit(this.spawnQueue),
      standin: standInServer(),
    };
    this.kernel.stepCheck = this.entryHook(config);
    const watch = config.watch;
    if (watch !== undefined)
      this.kernel.onSwitch = (p) => {
        watch(this.kernel.step, p);
      };
    for (const e of table) {
      const program = e.slot === VFS_PROC_NR ? standInServer(this.vfsActions) : programs[e.role];
      this.bootProcess(e, program, boot.procs.find((b) => b.slot === e.slot));
    }
  }

  /** What runs at every kernel entry: the record checks in sanity mode, then the host's watch; null if neither. */
  private entryHook(config: SystemConfig): (() => void) | null {
    const k = this.kernel;
    const check = config.sanity !== 'off';
    const watch = config.watch;
    if (!check && watch === undefined) return null;
    return () => {
      if (check) {
        grantSanityCheck(k);
        this.ds.sanityCheck();
      }
      if (watch !== undefined && k.current !== null) watch(k.step, k.current);
    };
  }

  private bootProcess(e: BootEntry, program: Program, image: { base: number } | undefined): void {
    const k = this.kernel;
    const p = k.createProcess({
      slot: e.slot,
      name: e.name,
      program: toProgram(k, program),
      priority: e.priority,
      generation: 0,
      ...(e.priv !== null ? { priv: makeSystemPriv(k.newPrivId(), e.priv) } : {}),
      rts: e.fullVm ? RTS.VMINHIBIT : 0,
    });
    if (!e.fullVm && image !== undefined) {
      p.extent = { base: image.base, length: (e.textPages + e.dataPages + e.stackPages) * 4096 };
    }
  }

  private recordExit(x: { endpoint: number; name: string; code: number; signal: number }): void {
    // DS holds all its state in memory and cannot be restarted (spec/ds.md §2): its death is fatal.
    if (x.endpoint === DS_PROC_NR) panic(`DS died (signal ${x.signal}, status ${x.code}): its state is lost`);
    this.exits.push(x);
    const h = this.handles.get(x.endpoint);
    if (h !== undefined) h.exit = { code: x.code, signal: x.signal };
  }

  /** Starts a user program: init forks a child that execs an image running `main`. Runs when next run. */
  spawn(main: Program, options: SpawnOptions = {}): SpawnHandle {
    const name = options.name ?? options.image?.name ?? 'user';
    const image: ExecImage = { name, text: 4 * 4096, data: 4 * 4096, bss: 0, tot: MINSTACKREGION, args: 0, ...options.image };
    const handle: SpawnHandle = { name, endpoint: null, exit: null };
    this.spawnQueue.push({
      image,
      main,
      started: (ep) => {
        handle.endpoint = ep;
        // init hears of its child only when it runs again after fork: the child may already have ended.
        const ended = ep >= 0 ? this.exits.filter((x) => x.endpoint === ep).at(-1) : undefined;
        if (ep < 0) handle.exit = { code: ep, signal: 0 };
        else if (ended !== undefined) handle.exit = { code: ended.code, signal: ended.signal };
        else this.handles.set(ep, handle);
      },
    });
    kernelNotify(this.kernel, KERNEL, this.kernel.procAt(INIT_PROC_NR));
    return handle;
  }

  /** RS_UP: RS starts a service from its record (label published in DS first). Runs when next run. */
  startService(service: ServiceRecord, done?: (result: number, endpoint: number) => void): void {
    this.rsQueue.push({ op: 'up', service, done });
    kernelNotify(this.kernel, KERNEL, this.kernel.procAt(RS_PROC_NR));
  }

  /**
   * Runs fn in VFS (the stand-in at slot 1, the one process whose magic grants the kernel honours) when next run:
   * the host makes VFS's calls, as MINIX's VFS makes them for its own requests. fn gets VFS's process.
   */
  asVfs(fn: (p: Proc) => Promise<void>): void {
    this.vfsActions.push(fn);
    kernelNotify(this.kernel, KERNEL, this.kernel.procAt(VFS_PROC_NR));
  }

  /** RS_DOWN: RS stops a service for good and deletes its label (DS purges its entries). */
  stopService(label: string, done?: (result: number) => void): void {
    this.rsQueue.push({ op: 'down', label, done });
    kernelNotify(this.kernel, KERNEL, this.kernel.procAt(RS_PROC_NR));
  }

  /**
   * A host breakpoint: every run() — the host's own or one a scenario makes — stops at kernel step `step`,
   * awaits `hit(this)`, then goes on. The hook may inspect, kill, set the next breakpoint or wait for a user.
   * A host stop never changes the schedule, so a run with breakpoints gives the same trace as one without.
   * A breakpoint at a step already passed never hits.
   */
  breakpoint: {
    /** Kernel step to stop at. */
    step: number;
    /** Called (and awaited) when the run reaches the step; the breakpoint is cleared first, so it may set the next one. */
    hit: (sys: System) => Promise<void> | void;
  } | null = null;

  /**
   * Runs until idle (default), for maxSteps kernel entries, or until a condition holds. Throws a
   * {@link StepLimitError} once the kernel reaches config.stepLimit.
   */
  async run(options: { maxSteps?: number; until?: () => boolean } = {}): Promise<RunResult> {
    const stopAt = this.kernel.step + (options.maxSteps ?? Number.POSITIVE_INFINITY);
    const cap = this.config.stepLimit;
    for (;;) {
      if (this.kernel.step >= cap && stopAt > this.kernel.step) throw new StepLimitError(this.kernel.step, this.kernel.lastEntered);
      const bp = this.breakpoint;
      const end = Math.min(stopAt, cap);
      const limit = bp !== null && bp.step > this.kernel.step && bp.step < end ? bp.step : end;
      const r = await this.kernel.run({ maxSteps: limit - this.kernel.step, until: options.until });
      if (r.reason === 'steps' && limit === cap && cap < stopAt) continue; // the check at the top throws
      if (r.reason !== 'steps' || bp === null || limit !== bp.step) return r;
      if (this.breakpoint === bp) this.breakpoint = null;
      await bp.hit(this);
      if (this.kernel.step >= stopAt) return { reason: 'steps', steps: this.kernel.step };
    }
  }

  /** Fault injection: signal a process (default SIGKILL); PM ends it when the system next runs. */
  kill(endpoint: number, sig = SIGKILL): boolean {
    const p = this.kernel.liveProc(endpoint);
    if (p === null) return false;
    this.kernel.hostKill(p, sig);
    return true;
  }

  /** The live process named `name` (first match), or null. */
  proc(name: string): KProc | null {
    return this.kernel.procs.find((p) => p.inUse && p.name === name) ?? null;
  }

  /**
   * Runs every checker the system has (VM, and the kernel's own records); panics on the first violation. VM's
   * check is the full one, or with `vm: 'changes'` the incremental one (vm.changesCheck). Returns whether VM was
   * checked: not in the middle of a request.
   */
  sanityCheck(vm: 'full' | 'changes' = 'full'): boolean {
    // A host stop can fall in the middle of a VM request, when VM's tables are legitimately in flux; VM
    // checks itself at the end of every request, so the host checks it only while it waits for work.
    return this.clock.offClock(() => {
      const idle = !this.vm.busy;
      if (idle && vm === 'full') this.vm.sanityCheck();
      else if (idle) this.vm.changesCheck();
      grantSanityCheck(this.kernel);
      this.ds.sanityCheck();
      return idle;
    });
  }

  /** A plain, serialisable snapshot of the whole system (what `grantvm inspect` prints). */
  inspect(): Snapshot {
    return this.clock.offClock(() => snapshot(this));
  }

  /**
   * Trace events, when config.trace is 'memory', each with its time `t`. The times are set on first reading (kept
   * apart until then, so a run whose trace is only hashed adds no field to its events: less memory, less GC).
   */
  get trace(): TraceEvent[] {
    const { events, times } = this;
    for (let i = this.stamped; i < times.length; i++) {
      const e = events[i];
      if (e !== undefined) e.t = times[i];
    }
    this.stamped = times.length;
    return events;
  }

  /** The trace kept in memory as emitted, without setting the times on its events: for readers that ignore time. */
  get untimedTrace(): readonly TraceEvent[] {
    return this.events;
  }

  /** The 'memory' sink: keeps each event and, with the accounting on, the cycle counter beside it. */
  private memorySink(): TraceSink {
    const { events, times, clock } = this;
    if (!clock.enabled) return (e) => events.push(e);
    return (e) => {
      events.push(e);
      times.push(clock.cycles);
    };
  }

  /** The trace kept in memory in the Chrome trace-event format, with simulated time, durations and running slices. */
  chromeTrace(): string {
    return toChromeTrace(this.trace, { clockMHz: this.clock.profile.clockMHz, runLog: this.clock.runLog ?? [] });
  }

  /** A hash of the trace kept in memory (config.trace 'memory'): equal runs give equal hashes. */
  traceHash(): string {
    // The events as emitted: the hash leaves the times out anyway.
    return traceHash(this.events);
  }

  /** The panic that stopped the system, if an invariant broke. */
  get panicked(): Panic | null {
    return this.kernel.panicked;
  }
}

/** Thrown by {@link System.run} at config.stepLimit: the run went on too long (a process or a scenario that loops). */
export class StepLimitError extends Error {
  /** 'StepLimitError'. */
  override readonly name = 'StepLimitError';
  /**
   * @param step The kernel step it stopped at (the limit).
   * @param running The process that made that kernel entry, if any.
   */
  constructor(
    readonly step: number,
    running: KProc | null,
  ) {
    super(`stopped at the kernel step limit, step ${step}${running === null ? '' : `, running ${running.name} (endpoint ${running.endpoint})`}`);
  }
}

/** The sink with every event stamped with the cycle counter (`t`) as it passes (unless the accounting is off). */
function stampedSink(sink: TraceSink | null, clock: CycleClock): TraceSink | null {
  if (sink === null || !clock.enabled) return sink;
  return (e) => {
    e.t = clock.cycles;
    sink(e);
  };
}

/** A host breakpoint (System.breakpoint). */
export type Breakpoint = NonNullable<System['breakpoint']>;

/**
 * Boots a system and runs it until every boot process waits for work. A `breakpoint` is set before the boot
 * runs, so it can stop the boot itself.
 */
export async function createSystem(partial: Partial<SystemConfig> = {}, options: { breakpoint?: Breakpoint } = {}): Promise<System> {
  const { config, problems } = resolveConfig(partial);
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  const sys = new System(config);
  sys.breakpoint = options.breakpoint ?? null;
  await sys.run();
  return sys;
}
