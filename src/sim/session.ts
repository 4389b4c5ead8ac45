// A stepping session for the browser view (DESIGN.md §5, §6): one scenario on one system, stopped at kernel
// steps with System.breakpoint. Forward is "move the breakpoint and go on"; back is replay of the same
// scenario to the earlier step (the model is deterministic, so the replay passes through the same states). A
// first, plain run lists every trace event, so that positions, "next fault" and the timeline are known in
// advance. Replays run with the sanity checks off (the listing run made them) and keep no trace (the listing
// has it), and a replay need not start from the seed: spare runs wait, suspended at breakpoints, at
// checkpoints every `interval` steps (prepare() sets them up between moves), and a step back continues the
// nearest one below its target. Entry points: Session, EventKind, positionsOf, matchesKind.
import type { TraceEvent } from '../include/trace.ts';
import { assert } from '../lib/assert.ts';
import { runScenario } from './scenario.ts';
import type { Check, Scenario, ScenarioResult } from './scenario.ts';
import type { SystemConfig } from './config.ts';
import type { Breakpoint, System } from './system.ts';

/** What "run to the next event of a kind" can look for. */
export type EventKind = 'fault' | 'cow-break' | 'grant-failure';

const GRANT_CALLS = /^SYS_(VSAFECOPY|SAFECOPY|SAFEMAP|SAFEUNMAP|SAFEREVMAP)/;

export function matchesKind(e: TraceEvent, kind: EventKind): boolean {
  switch (kind) {
    case 'fault':
      return e.kind === 'fault';
    case 'cow-break':
      return e.kind === 'vm' && e.op === 'cow-break';
    case 'grant-failure':
      return (
        (e.kind === 'grant' && e.result < 0) ||
        (e.kind === 'kcall' && e.result < 0 && GRANT_CALLS.test(e.call))
      );
  }
}

/**
 * The steps a session stops at: the step after each event's own (where that event and every earlier one has
 * happened), ascending and distinct, ending with the final step.
 */
export function positionsOf(events: readonly TraceEvent[], finalStep: number): number[] {
  const out: number[] = [];
  for (const e of events) {
    const p = e.step + 1;
    if (p > finalStep) break;
    if (out[out.length - 1] !== p) out.push(p);
  }
  if (out[out.length - 1] !== finalStep) out.push(finalStep);
  return out;
}

/** Where the scenario stands: stopped at a step, or done (at its final step). */
export interface Position {
  step: number;
  /** Trace events that have happened. */
  seen: number;
  done: boolean;
}

/** Options of Session.open. */
export interface SessionOptions {
  /** Called every `every` kernel steps of the listing run with the step and the events so far. */
  progress?: { every: number; at: (step: number, events: number) => void };
  /** Kernel steps between checkpoints (default: the run in at most 8 parts, each at least 8192 steps). */
  interval?: number;
}

/** At most this many checkpoints (spare suspended runs, each a whole system) per session. */
const MAX_CHECKPOINTS = 8;
/** Checkpoints are at least this many kernel steps apart (a replay that short takes milliseconds). */
const MIN_INTERVAL = 8192;
/** prepare() advances a run by at most this many steps per call, so that a request waits little behind it. */
const SLICE = 8192;

/** One run of the scenario, suspended at a host breakpoint or finished; it only ever moves forward. */
class Run {
  sys: System | null = null;
  step = 0;
  /** Trace events so far (counted, not kept: the listing run has them). */
  seen = 0;
  done = false;
  result: ScenarioResult | null = null;
  private resume: (() => void) | null = null;
  private arrived: (() => void) | null = null;

  constructor(
    private readonly scenario: Scenario,
    private readonly config: Partial<SystemConfig>,
    private readonly finalStep: number,
  ) {}

  /** Runs on to kernel step `target` (> step; the final step runs to the end): starts the run or resumes it. */
  runTo(target: number): Promise<void> {
    assert(!this.done && target > this.step, 'session: a run only moves forward');
    return new Promise<void>((resolve) => {
      this.arrived = resolve;
      const breakpoint = this.breakpointAt(target);
      const go = this.resume;
      this.resume = null;
      if (go !== null) {
        if (this.sys !== null) this.sys.breakpoint = breakpoint;
        go();
        return;
      }
      const config: Partial<SystemConfig> = {
        ...this.config,
        sanity: 'off',
        trace: () => {
          this.seen++;
        },
      };
      void runScenario(this.scenario, config, {
        oneSystem: true,
        ...(breakpoint !== null ? { breakpoint } : {}),
      }).then((r) => {
        this.sys = r.system;
        this.result = r;
        this.done = true;
        this.stopped();
      });
    });
  }

  /** A breakpoint at `step`; none for the final step, which is the end of the run. */
  private breakpointAt(step: number): Breakpoint | null {
    if (step >= this.finalStep) return null;
    return {
      step,
      hit: (sys) =>
        new Promise<void>((resolve) => {
          // a run that is dropped never resumes: it goes with its system
          this.sys = sys;
          this.resume = resolve;
          this.stopped();
        }),
    };
  }

  private stopped(): void {
    this.step = this.sys?.kernel.step ?? this.step;
    const a = this.arrived;
    this.arrived = null;
    a?.();
  }
}

export class Session {
  private current: Run | null = null;
  /** Suspended runs kept to replay from (checkpoints, and a run prepare() is moving to one). */
  private spares: Run[] = [];
  position: Position = { step: 0, seen: 0, done: false };
  /** Moves that could not go on with the current run (steps back): replays from a checkpoint or the seed. */
  replays = 0;
  /** Kernel steps between checkpoints. */
  readonly interval: number;

  private constructor(
    readonly scenario: Scenario,
    readonly config: Partial<SystemConfig>,
    /** Every event of the whole run, from the listing run. */
    readonly events: readonly TraceEvent[],
    readonly finalStep: number,
    /** The checks and lines of the listing run (the scenario's own verdict). */
    readonly listing: { checks: Check[]; lines: string[]; error: string | null },
    readonly positions: readonly number[],
    interval: number | undefined,
  ) {
    this.interval = interval ?? Math.max(MIN_INTERVAL, Math.ceil(finalStep / MAX_CHECKPOINTS));
  }

  /** The system being watched (a new one after every replay). Its own trace is not kept: see `events`. */
  get sys(): System {
    const sys = this.current?.sys ?? null;
    assert(sys !== null, 'session: no system yet');
    return sys;
  }

  /** The watched run's result, once it has reached the end. */
  get result(): ScenarioResult | null {
    return this.current?.result ?? null;
  }

  /**
   * Lists the whole run, then stops at the first position. Options: `progress` is called every `every` kernel
   * steps of the listing run (to show how far a scenario that never ends has got); `interval` sets the steps
   * between checkpoints (default: the run in at most 8 parts, each at least 8192 steps).
   */
  static async open(
    scenario: Scenario,
    config: Partial<SystemConfig>,
    options: SessionOptions = {},
  ): Promise<Session> {
    const { progress } = options;
    const breakpoint = progress === undefined ? undefined : progressBreakpoint(progress.every, progress.at);
    const listing = await runScenario(
      scenario,
      { ...config, trace: 'memory' },
      { oneSystem: true, ...(breakpoint !== undefined ? { breakpoint } : {}) },
    );
    const sys = listing.system;
    if (sys === null) throw new Error(listing.error ?? `${scenario.name}: the system did not boot`);
    const s = new Session(
      scenario,
      config,
      sys.trace,
      sys.kernel.step,
      { checks: listing.checks, lines: listing.lines, error: listing.error },
      positionsOf(sys.trace, sys.kernel.step),
      options.interval,
    );
    await s.goto(s.positions[0] ?? 1);
    return s;
  }

  /** Goes to kernel step `target` (clamped to [first position, final step]): forward in place, back by replay. */
  async goto(target: number): Promise<Position> {
    const t = Math.max(this.positions[0] ?? 1, Math.min(target, this.finalStep));
    if (this.current !== null && t === this.position.step) return this.position;
    const run = this.runFor(t);
    if (run.step < t) await run.runTo(t);
    this.current = run;
    this.position = { step: run.step, seen: run.seen, done: run.done };
    return this.position;
  }

  /**
   * Background work between moves, one slice per call: keeps a spare run at every checkpoint (a multiple of
   * `interval`) below the current step, so that a step back replays at most about `interval` steps. Resolves
   * true if it did some work (call it again when idle), false when there is nothing left to do.
   */
  async prepare(): Promise<boolean> {
    const want = this.missingCheckpoint();
    if (want === null) return false;
    let from: Run | null = null;
    for (const r of this.spares) if (r.step < want && (from === null || r.step > from.step)) from = r;
    if (from === null) {
      from = this.newRun();
      this.spares.push(from);
    }
    await from.runTo(Math.min(want, from.step + SLICE));
    return true;
  }

  /** The highest checkpoint below the current step without a spare run, or null. */
  private missingCheckpoint(): number | null {
    const i = this.interval;
    for (let c = Math.floor((this.position.step - 1) / i) * i; c > 0; c -= i)
      if (!this.spares.some((r) => r.step === c)) return c;
    return null;
  }

  /** The run to reach step t from: the current one going forward, else the nearest spare below t, else a new one. */
  private runFor(t: number): Run {
    const cur = this.current;
    let best = cur !== null && !cur.done && cur.step <= t ? cur : null;
    for (const r of this.spares) if (r.step <= t && (best === null || r.step > best.step)) best = r;
    if (best === cur && best !== null) return best;
    this.replays += cur === null ? 0 : 1;
    if (best === null) return this.newRun();
    this.spares = this.spares.filter((r) => r !== best);
    return best;
  }

  private newRun(): Run {
    return new Run(this.scenario, this.config, this.finalStep);
  }

  /** The next position after the current one (the next event), or the current one at the end. */
  nextPosition(): number {
    return this.positions.find((p) => p > this.position.step) ?? this.position.step;
  }

  /** The position before the current one (one event back). */
  previousPosition(): number {
    let best = this.positions[0] ?? 1;
    for (const p of this.positions) if (p < this.position.step) best = p;
    return best;
  }

  /** The position just after the next not-yet-happened event of `kind`, or null if none is left. */
  nextOfKind(kind: EventKind): number | null {
    for (let i = this.position.seen; i < this.events.length; i++) {
      const e = this.events[i];
      if (e !== undefined && matchesKind(e, kind)) return Math.min(e.step + 1, this.finalStep);
    }
    return null;
  }
}

/** A breakpoint every `every` steps that reports the step and the events so far, then sets the next one. */
function progressBreakpoint(every: number, at: (step: number, events: number) => void): Breakpoint {
  const bp = (step: number): Breakpoint => ({
    step,
    hit: (sys) => {
      at(sys.kernel.step, sys.trace.length);
      sys.breakpoint = bp(step + every);
    },
  });
  return bp(every);
}
