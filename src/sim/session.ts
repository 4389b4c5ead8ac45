// A stepping session for the browser view (DESIGN.md §5, §6): one scenario on one system, stopped at kernel
// steps with System.breakpoint. Forward is "move the breakpoint and go on"; back is replay from the seed to
// the earlier step (the model is deterministic, so the replay passes through the same states). A first, plain
// run lists every trace event, so that positions, "next fault" and the timeline are known in advance.
// Entry points: Session, EventKind, positionsOf, matchesKind.
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
      return (e.kind === 'grant' && e.result < 0) || (e.kind === 'kcall' && e.result < 0 && GRANT_CALLS.test(e.call));
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

export class Session {
  private current: System | null = null;
  position: Position = { step: 0, seen: 0, done: false };
  /** Replays from the seed so far (one per step back). */
  replays = 0;
  private resume: (() => void) | null = null;
  private arrived: (() => void) | null = null;
  private generation = 0;
  result: ScenarioResult | null = null;

  private constructor(
    readonly scenario: Scenario,
    readonly config: Partial<SystemConfig>,
    /** Every event of the whole run, from the listing run. */
    readonly events: readonly TraceEvent[],
    readonly finalStep: number,
    /** The checks and lines of the listing run (the scenario's own verdict). */
    readonly listing: { checks: Check[]; lines: string[]; error: string | null },
    readonly positions: readonly number[],
  ) {}

  /** The system being watched (a new one after every replay). */
  get sys(): System {
    assert(this.current !== null, 'session: no system yet');
    return this.current;
  }

  /** Lists the whole run, then stops at the first position. */
  static async open(scenario: Scenario, config: Partial<SystemConfig>): Promise<Session> {
    const listing = await runScenario(scenario, { ...config, trace: 'memory' }, { oneSystem: true });
    const sys = listing.system;
    if (sys === null) throw new Error(listing.error ?? `${scenario.name}: the system did not boot`);
    const s = new Session(scenario, config, sys.trace, sys.kernel.step, { checks: listing.checks, lines: listing.lines, error: listing.error }, positionsOf(sys.trace, sys.kernel.step));
    await s.replayTo(s.positions[0] ?? 1);
    return s;
  }

  /** Goes to kernel step `target` (clamped to [first position, final step]): forward in place, back by replay. */
  async goto(target: number): Promise<Position> {
    const first = this.positions[0] ?? 1;
    const t = Math.max(first, Math.min(target, this.finalStep));
    if (t === this.position.step) return this.position;
    if (t < this.position.step || this.resume === null) {
      this.replays++;
      return this.replayTo(t);
    }
    return this.continueTo(t);
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

  private continueTo(target: number): Promise<Position> {
    const go = this.resume;
    assert(go !== null, 'session: nothing to resume');
    this.sys.breakpoint = this.breakpointAt(target, this.generation);
    return this.waitArrival(go);
  }

  private replayTo(target: number): Promise<Position> {
    const gen = ++this.generation;
    this.resume = null;
    const start = (): void => {
      const breakpoint = this.breakpointAt(target, gen);
      void runScenario(this.scenario, { ...this.config, trace: 'memory' }, { oneSystem: true, ...(breakpoint !== null ? { breakpoint } : {}) }).then((r) => {
        if (gen !== this.generation) return;
        this.current = r.system;
        this.result = r;
        this.resume = null;
        this.stopped(true);
      });
    };
    return this.waitArrival(start);
  }

  /** A breakpoint at `step`; none for the final step, which is the end of the run. */
  private breakpointAt(step: number, gen: number): Breakpoint | null {
    if (step >= this.finalStep) return null;
    return {
      step,
      hit: (sys) =>
        new Promise<void>((resolve) => {
          // A stop of an abandoned replay never resumes: that run is dropped with its system.
          if (gen !== this.generation) return;
          this.current = sys;
          this.resume = resolve;
          this.stopped(false);
        }),
    };
  }

  private waitArrival(go: () => void): Promise<Position> {
    return new Promise<Position>((resolve) => {
      this.arrived = () => {
        resolve(this.position);
      };
      go();
    });
  }

  private stopped(done: boolean): void {
    this.position = { step: this.sys.kernel.step, seen: this.sys.trace.length, done };
    const a = this.arrived;
    this.arrived = null;
    a?.();
  }
}
