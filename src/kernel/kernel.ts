// Models the MINIX microkernel core (kernel/proc.c, main.c, clock.c): the process table, the switch from one
// process to the next, kernel entries counted as steps, the clock, signals and process teardown.
// Entry points: Kernel (createProcess, enter, block, run, causeSig, terminate, kernelNotify, liveProc).
// DIVERGES: processes are async functions; a switch resolves the next process's pending promise directly.
import { SIGABRT, SIGKILL } from '../include/errno.ts';
import {
  CLOCK,
  ENDPOINT_GENERATION_SIZE,
  MAX_NR_TASKS,
  NONE,
  NR_TASKS,
  PM_PROC_NR,
  SYSTEM,
  VM_PROC_NR,
  endpointGeneration,
  endpointSlot,
  makeEndpoint,
  nextGeneration,
} from '../include/endpoint.ts';
import type { Endpoint } from '../include/endpoint.ts';
import type { GrantIdScheme } from '../include/safecopies.ts';
import type { TraceEvent, TraceSink } from '../include/trace.ts';
import { Panic, assert, panic } from '../lib/assert.ts';
import { Rng } from '../lib/rng.ts';
import type { CycleClock } from '../hw/clock.ts';
import { Tlb, WalkCache } from '../hw/mmu.ts';
import type { PhysMem } from '../hw/physmem.ts';
import { K } from '../hw/profile.ts';
import { KProc, RTS, isRunnable } from './proc.ts';
import type { ProgramFn } from './proc.ts';
import { makeUserPriv } from './priv.ts';
import type { Priv } from './priv.ts';
import { Scheduler } from './scheduler.ts';
import type { Chooser } from './scheduler.ts';
import { dropIpcState, kernelNotify } from './ipc.ts';
import type { VmRequestQueue } from './vmrequest.ts';
import { createVmRequestQueue, dropVmRequests } from './vmrequest.ts';

export interface KernelConfig {
  nrProcs: number;
  /** Kernel entries a process may make before it is preempted. */
  quantum: number;
  tlbEntries: number;
  /** 'priority': priority queues, round robin. 'random': a seeded choice among all runnable processes. */
  schedule: 'priority' | 'random';
  seed: number;
  /** A test's own choice among the runnable processes (overrides `schedule`). */
  chooser?: Chooser;
  /** Pending senda messages a process may hold. */
  maxAsyncMessages: number;
  /** Signals are handled by PM (full system) or by the kernel itself (a bare kernel in unit tests). */
  signalsToPm: boolean;
  trace: TraceSink | null;
  // Grant machinery (spec/grants.md §1), read by kernel/grant.ts, system/do_safecopy.ts, do_safemap.ts and libsys/grant.ts.
  /** 'generational': ids are (seq << 20) | slot; 'legacy': id = slot, reused at once (the 2010 hazard). */
  grantIds: GrantIdScheme;
  /** Copy-on-write path of safecopy (§5.5); off, every safecopy copies bytes. */
  cowSafecopy: boolean;
  /** Capacity of the system-wide safemap record table (MAX_MAP_INFO, §6.2). */
  maxMapInfo: number;
}

export const defaultKernelConfig: KernelConfig = {
  nrProcs: 100,
  quantum: 500,
  tlbEntries: 64,
  schedule: 'priority',
  seed: 1,
  maxAsyncMessages: 64,
  signalsToPm: true,
  trace: null,
  grantIds: 'generational',
  cowSafecopy: true,
  maxMapInfo: 20,
};

/** Why a run stopped: every process waits ('idle'), the step limit was reached ('steps') or the `until` condition held ('until'). */
export type StopReason = 'idle' | 'steps' | 'until';
/** How a run ended: every process waits ('idle'), the step limit ('steps') or the condition held ('until'). */
export interface RunResult {
  /** Why the run stopped. */
  reason: StopReason;
  /** The kernel step counter when the run stopped. */
  steps: number;
}

export interface CreateProcessOptions {
  slot: number;
  name: string;
  program: ProgramFn<KProc>;
  priv?: Priv;
  priority?: number;
  /** Explicit endpoint generation (boot processes: 0); otherwise the slot's next generation. */
  generation?: number;
  parent?: Endpoint | null;
  /** Extra RTS flags the process starts with (NO_PRIV, PROC_STOP). */
  rts?: number;
}

interface HostRun {
  resolve: (r: RunResult) => void;
  reject: (e: unknown) => void;
  stopAtStep: number;
  until: (() => boolean) | null;
}

interface Timer {
  at: number;
  proc: KProc;
}

/** Kernel event counters (Kernel.counts). */
export interface KernelCounts {
  /** IPC operations completed: sends, receives, notifications, asynchronous sends. */
  ipc: number;
  /** Kernel calls answered. */
  kernelCalls: number;
  /** Page faults taken by processes and passed to VM. */
  pageFaults: number;
  /** Memory requests (CHECK, MAP, SMAP, ...) the kernel posted to VM on behalf of a kernel call. */
  vmRequests: number;
  /** sys_safecopyfrom/to calls and vsafecopy elements that succeeded. */
  safecopies: number;
  /** Bytes those safecopies copied (or shared copy-on-write). */
  safecopyBytes: number;
}

export class Kernel {
  readonly config: KernelConfig;
  readonly procs: KProc[];
  readonly scheduler: Scheduler;
  readonly userPriv: Priv = makeUserPriv();
  readonly vmRequests: VmRequestQueue = createVmRequestQueue();
  /** Processes waiting for VM to handle their page fault, in arrival order. */
  readonly pagefaults: KProc[] = [];
  /**
   * Run at every kernel entry when set: the checkers of records that any step may change (grant mapping
   * records, DS tables). Sanity mode sets it; VM checks itself at the end of every request and fault.
   */
  stepCheck: (() => void) | null = null;
  /** Kernel entries so far: the step numbers of the trace. */
  step = 0;
  /** A host's watch on the CPU: told of every process given the CPU, and of the host taking it back (null). */
  onSwitch: ((p: KProc | null) => void) | null = null;
  /** The process that made the latest kernel entry (the one running, or the last to run). */
  lastEntered: KProc | null = null;
  /**
   * Every program that threw (crashed with SIGABRT), with what it threw: the host may show where. Kept out of
   * the trace, which must not depend on the host (an exception's stack names files).
   */
  readonly crashes: { step: number; endpoint: number; name: string; error: unknown }[] = [];
  /** What the kernel has done so far, for inspection: one increment per event, nothing else on the hot path. */
  readonly counts: KernelCounts = {
    ipc: 0,
    kernelCalls: 0,
    pageFaults: 0,
    vmRequests: 0,
    safecopies: 0,
    safecopyBytes: 0,
  };
  /**
   * The alarm clock in milliseconds (SYS_SETALARM, sleep); advances only when every process waits for an alarm.
   * Apart from the cycle counter (`clock`): alarms never follow the cost model, so the schedule is the same
   * under every profile.
   */
  now = 0;
  /** The machine's cycle counter (`mem.clock`): simulated time under the system's cost profile. */
  readonly clock: CycleClock;
  /** Endpoint and page directory of the process that ran last: a switch to another one is charged. */
  private lastRan = { endpoint: NONE as number, dirFrame: -2 };
  current: KProc | null = null;
  /** Frame of the page-directory pointer page VM gave the kernel (VMCTL_I386_PAGEDIRS); -1 before. */
  pagedirsFrame = -1;
  /** The kernel's walks through that page, cached for host speed (exact; see kernel/memory.ts kwalk). */
  readonly walks = new WalkCache();
  panicked: Panic | null = null;
  private host: HostRun | null = null;
  /** config.quantum, read at every switch. */
  private readonly quantum: number;
  /** config.nrProcs, read at every endpoint lookup. */
  private readonly nrProcs: number;
  private stopReason: StopReason | null = null;
  /** Interrupted by a host stop in the middle of its quantum; not in a ready queue. */
  private stopped: KProc | null = null;
  /** Alarms, earliest first; `terminate` drops a process's own, so every one is a live process's. */
  private timers: Timer[] = [];
  private readonly rng: Rng;
  private nextPrivId = 1;
  /** The last generation given in each slot (index slot + NR_TASKS); none yet reads as 0. */
  private readonly lastGeneration: number[] = [];

  constructor(
    readonly mem: PhysMem,
    config: Partial<KernelConfig> = {},
  ) {
    this.config = { ...defaultKernelConfig, ...config };
    this.quantum = this.config.quantum;
    this.nrProcs = this.config.nrProcs;
    this.clock = mem.clock;
    this.rng = new Rng(this.config.seed);
    const chooser =
      this.config.chooser ??
      (this.config.schedule === 'random' ? (all: readonly KProc[]) => this.rng.int(all.length) : null);
    this.scheduler = new Scheduler(chooser);
    const n = this.config.nrProcs + NR_TASKS;
    this.procs = Array.from({ length: n }, (_, i) => {
      const slot = i - NR_TASKS;
      return new KProc(slot, makeEndpoint(0, slot), this.userPriv, new Tlb(this.config.tlbEntries));
    });
    this.clock.attach(n);
  }

  // ---------------------------------------------------------------- process table

  procAt(slot: number): KProc {
    const p = this.procs[slot + NR_TASKS];
    if (p === undefined) panic(`no process slot ${slot}`);
    return p;
  }

  isOkSlot(slot: number): boolean {
    return Number.isInteger(slot) && slot >= -NR_TASKS && slot < this.config.nrProcs;
  }

  /** The process holding endpoint `e`, or null if `e` is not live (bad slot, free slot, stale generation). */
  liveProc(e: number): KProc | null {
    // Endpoints are i32. A generation-0 endpoint (the boot processes: PM, VM, DS, RS, ...) is its own slot, the
    // usual destination; else the slot is endpointSlot(e), without its second modulo for e ≥ -MAX_NR_TASKS. A
    // slot outside the table reads undefined, and a number that is no i32 is no process's endpoint: null either way.
    let slot = e;
    // Stryker disable next-line UnaryOperator: a generation-0 endpoint's slot is the same by the formula below
    if (e < -NR_TASKS || e >= this.nrProcs) {
      const t = e + MAX_NR_TASKS;
      // Stryker disable next-line ConditionalExpression,EqualityOperator: endpointSlot gives the same slot, or one that holds no such endpoint; the first branch spares a modulo
      slot = t >= 0 ? (t % ENDPOINT_GENERATION_SIZE) - MAX_NR_TASKS : endpointSlot(e);
    }
    const p = this.procs[slot + NR_TASKS];
    return p !== undefined && p.inUse && p.endpoint === e ? p : null;
  }

  newPrivId(): number {
    return this.nextPrivId++;
  }

  createProcess(o: CreateProcessOptions): KProc {
    const p = this.procAt(o.slot);
    assert(!p.inUse, () => `createProcess: slot ${o.slot} in use by ${p.name}`);
    const i = o.slot + NR_TASKS;
    const generation = o.generation ?? nextGeneration(this.lastGeneration[i] ?? 0);
    this.lastGeneration[i] = generation;
    p.generation = generation;
    p.endpoint = makeEndpoint(generation, o.slot);
    p.name = o.name;
    p.priv = o.priv ?? this.userPriv;
    p.priority = o.priority ?? 7;
    p.parent = o.parent ?? null;
    p.dirFrame = -1;
    p.extent = null;
    p.tlb.flush();
    p.exitStatus = null;
    p.pendingSignals = 0;
    p.fault = null;
    p.userState = new Map();
    p.incarnation++;
    this.clock.retire(i);
    this.setProgram(p, o.program);
    p.rts = o.rts ?? 0;
    p.vmHolds = 0;
    this.makeReady(p);
    this.emit({
      step: this.step,
      kind: 'proc',
      op: 'start',
      ep: p.endpoint,
      name: p.name,
      parent: o.parent ?? NONE,
    });
    return p;
  }

  /** Points the process at a (new) program; it starts when next scheduled (boot, fork, exec). */
  setProgram(p: KProc, program: ProgramFn<KProc>): void {
    p.program = program;
    const incarnation = p.incarnation;
    p.waiter = () => {
      void Promise.resolve().then(() => this.runProgram(p, program, incarnation));
    };
  }

  private async runProgram(p: KProc, program: ProgramFn<KProc>, incarnation: number): Promise<void> {
    let status: number | void;
    try {
      status = await program(p);
    } catch (err) {
      if (p.incarnation !== incarnation) return;
      if (err instanceof Panic) {
        this.systemPanic(err);
        return;
      }
      // A program that throws crashes its process, as a MINIX server that panics: SIGABRT through PM.
      this.crashes.push({ step: this.step, endpoint: p.endpoint, name: p.name, error: err });
      this.emit({ step: this.step, kind: 'panic', message: `${p.name}: ${String(err)}` });
      this.causeSig(p, SIGABRT);
      if (p.incarnation !== incarnation) {
        // No PM to take the signal (a bare kernel, or PM itself crashed): it ended the process; run the next one.
        if (this.current === null) this.switchAway();
        return;
      }
      await this.switchFrom(p);
      if (p.incarnation === incarnation) this.endProgram(p, { code: 0, signal: SIGABRT });
      return;
    }
    // A program that returns without calling exit is terminated by the kernel with its status.
    if (p.incarnation === incarnation)
      this.endProgram(p, { code: typeof status === 'number' ? status : 0, signal: 0 });
  }

  private endProgram(p: KProc, status: { code: number; signal: number }): void {
    // Stryker disable next-line ArrowFunction,StringLiteral: never fires: a program ends while its process runs
    assert(this.current === p, () => `endProgram: ${p.name} is not running`);
    this.terminate(p, status);
    this.switchAway();
  }

  // ---------------------------------------------------------------- scheduling

  makeReady(p: KProc): void {
    if (p !== this.current && p !== this.stopped && isRunnable(p) && !this.scheduler.isQueued(p))
      this.scheduler.enqueue(p);
  }

  setRts(p: KProc, flag: number): void {
    p.rts |= flag;
    this.scheduler.dequeue(p);
  }

  clearRts(p: KProc, flag: number): void {
    p.rts &= ~flag;
    this.makeReady(p);
  }

  /** Makes a blocked process runnable with `value` as the result of the call it waits in. */
  wake(p: KProc, flag: number, value: unknown): void {
    p.wakeValue = value;
    this.clearRts(p, flag);
  }

  addHold(p: KProc): void {
    p.vmHolds++;
    this.scheduler.dequeue(p);
  }

  dropHold(p: KProc): void {
    assert(p.vmHolds > 0, () => `dropHold: ${p.name} holds no VM request`);
    p.vmHolds--;
    this.makeReady(p);
  }

  /**
   * Every trap from a process starts here: counts the step, and preempts the caller when its quantum is used
   * up, a higher-priority process is ready, or the host asked to stop. Returns a promise to await, or null.
   */
  enter(p: KProc): Promise<unknown> | null {
    if (this.current !== p) notRunning('enter', p);
    this.step++;
    this.lastEntered = p;
    this.trap(p);
    if (this.stepCheck !== null) this.clock.offClock(this.stepCheck);
    const host = this.host;
    // The usual case, tested first and kept small so the IPC paths can inline it: nothing preempts the caller.
    const usual = host !== null && host.until === null && this.step < host.stopAtStep;
    if (--p.quantumLeft > 0 && usual && !this.scheduler.higherReady(p.priority)) return null;
    return this.preempt(p, host);
  }

  /** The rest of {@link enter}: the host stops here, the caller's quantum ran out, or a higher priority is ready. */
  private preempt(p: KProc, host: HostRun | null): Promise<unknown> | null {
    const expired = p.quantumLeft <= 0;
    if (host !== null && (this.step >= host.stopAtStep || (host.until !== null && host.until()))) {
      // The host stops here. The schedule must not notice: on the next run() this process goes on exactly
      // as it would have (preempted if its quantum ran out, else resumed first with the quantum it has).
      this.stopReason = this.step >= host.stopAtStep ? 'steps' : 'until';
      if (expired) this.scheduler.enqueue(p);
      else this.stopped = p;
      return this.switchFrom(p);
    }
    if (expired) {
      this.scheduler.enqueue(p);
      return this.switchFrom(p);
    }
    if (this.scheduler.higherReady(p.priority)) {
      p.keepQuantum = true;
      this.scheduler.enqueue(p, true);
      return this.switchFrom(p);
    }
    return null;
  }

  /**
   * A kernel entry that never switches (sendnb): it counts as a step like any other, but a quantum that runs
   * out or a host stop takes effect at the caller's next entry, which then sees the same conditions.
   */
  enterNoSwitch(p: KProc): void {
    if (this.current !== p) notRunning('enter', p);
    this.step++;
    this.lastEntered = p;
    this.trap(p);
    if (this.stepCheck !== null) this.clock.offClock(this.stepCheck);
    p.quantumLeft--;
  }

  /** A kernel entry and its exit: charged at the entry, which is also where the call's duration starts. */
  private trap(p: KProc): void {
    p.entryCycle = this.clock.cycles;
    this.clock.charge(K.trap);
  }

  /** The running process `p` has just become blocked: run someone else until `p` is woken. */
  block<T>(p: KProc): Promise<T> {
    if (this.current !== p) notRunning('block', p);
    if (isRunnable(p) && !p.queued) panic(`block: ${p.name} would never be woken`);
    return this.switchFrom(p) as Promise<T>;
  }

  /**
   * The running process `p` waits with RTS flag `flag` now set (IPC): {@link setRts} and {@link block} in one.
   * The running process is never in a ready queue, so there is nothing to dequeue.
   */
  blockOn<T>(p: KProc, flag: number): Promise<T> {
    if (this.current !== p) notRunning('block', p);
    if (p.queued) panic(`block: ${p.name} runs but is queued`);
    p.rts |= flag;
    return this.switchFrom(p) as Promise<T>;
  }

  /**
   * The running process `p` waits with RTS flag `flag` now set, having made `next` runnable (a rendezvous): as
   * {@link makeReady} of `next`, then {@link blockOn}, but when the scheduler would pick `next` at once it gets
   * the CPU without passing through its ready queue (the same process runs, with the same charges).
   */
  blockFor<T>(p: KProc, flag: number, next: KProc): Promise<T> {
    const direct =
      // Stryker disable next-line ConditionalExpression,EqualityOperator: processes run only under run(); both paths run the same process with the same charges
      this.host !== null &&
      // Stryker disable next-line ConditionalExpression,EqualityOperator: a run clears a host stop before any process runs; both paths run the same process with the same charges
      this.stopped === null &&
      isRunnable(next) &&
      // Stryker disable next-line ConditionalExpression,BooleanLiteral: `next` waited in receive, so it is in no queue; both paths run the same process with the same charges
      !next.queued &&
      this.scheduler.nextIfQueued(next.priority);
    if (!direct) {
      this.makeReady(next);
      return this.blockOn<T>(p, flag);
    }
    // Stryker disable next-line StringLiteral: never fires: only the running process makes a rendezvous
    if (this.current !== p) notRunning('block', p);
    // Stryker disable next-line StringLiteral,LogicalOperator: never fires: the running process is in no queue, and a rendezvous is with another process
    if (p.queued || next === p) panic(`blockFor: ${p.name} runs but is queued, or hands the CPU to itself`);
    p.rts |= flag;
    const promise = new Promise<unknown>((resolve) => {
      p.waiter = resolve;
    });
    this.current = null;
    this.resume(next);
    return promise as Promise<T>;
  }

  private switchFrom(p: KProc): Promise<unknown> {
    // An executor written here, not one shared function: V8 inlines a literal executor into `new Promise`,
    // while it calls a shared one (measured: the shared one cost more than the closure it saved).
    const promise = new Promise<unknown>((resolve) => {
      p.waiter = resolve;
    });
    this.switchAway();
    return promise;
  }

  /** The current process stops running (blocked, preempted or gone): hand the CPU to the next one. */
  switchAway(): void {
    this.current = null;
    if (this.host === null) return;
    if (this.stopReason !== null) {
      this.finishHost(this.stopReason);
      return;
    }
    let next = this.takeStopped();
    if (next === null) next = this.scheduler.pick();
    if (next === null && this.fireTimers()) next = this.scheduler.pick();
    if (next === null) {
      this.finishHost('idle');
      return;
    }
    this.resume(next);
  }

  /** The process a host stop interrupted, if it can go on: it runs first, with the quantum it had. */
  private takeStopped(): KProc | null {
    const p = this.stopped;
    this.stopped = null;
    if (p === null || !p.inUse || !isRunnable(p)) return null;
    this.scheduler.dequeue(p);
    p.keepQuantum = true;
    return p;
  }

  private resume(next: KProc): void {
    this.current = next;
    if (this.onSwitch !== null) this.onSwitch(next);
    if (next.endpoint !== this.lastRan.endpoint) this.chargeSwitch(next);
    if (next.keepQuantum) next.keepQuantum = false;
    else next.quantumLeft = this.quantum;
    const waiter = next.waiter;
    // Stryker disable next-line StringLiteral: never fires: a process in a ready queue or handed the CPU always waits with a continuation
    if (waiter === null) return panic(`resume: ${next.name} has no continuation`);
    next.waiter = null;
    const value = next.wakeValue;
    next.wakeValue = undefined;
    waiter(value);
  }

  /** A switch to another process: its time starts here; another address space costs a CR3 load and TLB flush. */
  private chargeSwitch(next: KProc): void {
    const last = this.lastRan;
    this.clock.setOwner(next.slot + NR_TASKS, next.endpoint);
    this.clock.charge(K.contextSwitch);
    if (last.dirFrame !== next.dirFrame) this.clock.charge(K.addressSpaceSwitch);
    last.endpoint = next.endpoint;
    last.dirFrame = next.dirFrame;
  }

  private finishHost(reason: StopReason): void {
    if (this.onSwitch !== null) this.onSwitch(null);
    const host = this.host;
    this.host = null;
    this.stopReason = null;
    if (host !== null) host.resolve({ reason, steps: this.step });
  }

  /**
   * Host side: run processes until none is runnable (and no timer is pending), until `maxSteps` more kernel
   * entries, or until `until()` holds at a kernel entry. Rejects with the Panic if the system panicked.
   */
  run(options: { maxSteps?: number; until?: () => boolean } = {}): Promise<RunResult> {
    if (this.panicked !== null) return Promise.reject(this.panicked);
    assert(this.host === null, 'run: the system is already running');
    return new Promise<RunResult>((resolve, reject) => {
      this.host = {
        resolve,
        reject,
        stopAtStep: this.step + (options.maxSteps ?? Number.POSITIVE_INFINITY),
        until: options.until ?? null,
      };
      this.switchAway();
    });
  }

  get running(): boolean {
    return this.host !== null;
  }

  systemPanic(err: Panic): void {
    if (this.panicked === null) {
      this.panicked = err;
      this.emit({ step: this.step, kind: 'panic', message: err.message });
    }
    const host = this.host;
    this.host = null;
    this.current = null;
    if (host !== null) host.reject(err);
  }

  // ---------------------------------------------------------------- clock

  /** Arms a one-shot alarm: a CLOCK notification to `p` after `ms` simulated milliseconds. */
  setAlarm(p: KProc, ms: number): void {
    this.timers.push({ at: this.now + Math.max(0, ms), proc: p });
    this.timers.sort((a, b) => a.at - b.at);
  }

  /** Nothing can run: advance the clock to the earliest alarm and deliver every alarm due then. */
  private fireTimers(): boolean {
    const first = this.timers[0];
    // Stryker disable next-line BooleanLiteral: with no timer left, the pick that follows finds nobody either way
    if (first === undefined) return false;
    this.now = Math.max(this.now, first.at);
    for (let t = this.timers[0]; t !== undefined && t.at <= this.now; t = this.timers[0]) {
      this.timers.shift();
      kernelNotify(this, CLOCK, t.proc);
    }
    return true;
  }

  // ---------------------------------------------------------------- signals and teardown

  /** A signal for `p` (cause_sig): PM is told and handles it; a bare kernel terminates the process. */
  causeSig(p: KProc, sig: number): void {
    this.emit({ step: this.step, kind: 'signal', ep: p.endpoint, sig });
    const pm = this.liveProc(PM_PROC_NR);
    if (!this.config.signalsToPm || pm === null || p === pm) {
      this.terminate(p, { code: 0, signal: sig });
      return;
    }
    p.pendingSignals |= 1 << sig;
    if ((p.rts & RTS.SIGNALED) === 0) {
      this.setRts(p, RTS.SIGNALED);
      kernelNotify(this, SYSTEM, pm);
    }
  }

  /**
   * The running process signals itself (a bad access): it stops here for good, or until PM ends the
   * signal, in which case it is terminated anyway since the access cannot complete.
   */
  async selfSignal(p: KProc, sig: number): Promise<never> {
    this.causeSig(p, sig);
    if (p.inUse) await this.switchFrom(p);
    this.terminate(p, { code: 0, signal: sig });
    this.switchAway();
    return new Promise<never>(() => undefined);
  }

  /** True when PM manages processes (exit, signals); a bare kernel in unit tests handles them itself. */
  get hasPm(): boolean {
    return this.config.signalsToPm && this.liveProc(PM_PROC_NR) !== null;
  }

  /** The running process ends without PM (bare kernel): clear its slot and run someone else. */
  exitSelf(p: KProc, status: { code: number; signal: number }): Promise<never> {
    this.endProgram(p, status);
    return new Promise<never>(() => undefined);
  }

  /** The next process with a pending kernel signal, for PM's SYS_GETKSIG. */
  nextSignaled(): KProc | null {
    for (const p of this.procs) if (p.inUse && p.pendingSignals !== 0) return p;
    return null;
  }

  /**
   * Clears a process slot (clear_endpoint): callers blocked on it get EDEADSRCDST, its requests to VM are
   * dropped, its continuation is abandoned. Memory is VM's business and must already be released.
   */
  terminate(p: KProc, status: { code: number; signal: number }): void {
    if (!p.inUse) return;
    this.emit({
      step: this.step,
      kind: 'proc',
      op: status.signal !== 0 ? 'kill' : 'exit',
      ep: p.endpoint,
      name: p.name,
      status: status.signal !== 0 ? status.signal : status.code,
    });
    this.scheduler.dequeue(p);
    dropIpcState(this, p);
    dropVmRequests(this, p);
    const i = this.pagefaults.indexOf(p);
    if (i >= 0) this.pagefaults.splice(i, 1);
    p.rts = RTS.SLOT_FREE;
    p.vmHolds = 0;
    p.waiter = null;
    p.wakeValue = undefined;
    p.program = null;
    p.incarnation++;
    p.exitStatus = status.signal !== 0 ? status.signal : status.code << 8;
    p.pendingSignals = 0;
    p.fault = null;
    p.dirFrame = -1;
    p.extent = null;
    p.tlb.flush();
    p.priv = this.userPriv;
    this.timers = this.timers.filter((t) => t.proc !== p);
    for (const hook of this.exitHooks) hook(p);
    if (this.current === p) this.current = null;
  }

  /** Kernel parts that keep per-process records (safemap records) register here to purge them on exit. */
  readonly exitHooks: ((p: KProc) => void)[] = [];

  /** Host-side kill (fault injection): SIGKILL through PM as MINIX's kill would do. */
  hostKill(p: KProc, sig = SIGKILL): void {
    this.causeSig(p, sig);
  }

  // ---------------------------------------------------------------- trace

  emit(event: TraceEvent): void {
    const sink = this.config.trace;
    if (sink !== null) sink(event);
  }

  get tracing(): boolean {
    return this.config.trace !== null;
  }

  /** Notification to VM that work is waiting (page faults from HARDWARE, memory requests from SYSTEM). */
  notifyVm(from: Endpoint): void {
    const vm = this.liveProc(VM_PROC_NR);
    if (vm !== null) kernelNotify(this, from, vm);
  }

  /** Endpoint generation bookkeeping for inspection. */
  generationOf(e: number): number {
    return endpointGeneration(e);
  }
}

/** A kernel entry or block by a process that is not the one running: the model's own bug. */
function notRunning(what: string, p: KProc): never {
  return panic(`${what}: ${p.name} is not the running process`);
}
