// Scenarios: a named piece of work run on a fresh system, reporting checks (passed/failed) and narrative
// lines, with the seed that replays it. The conformance programs, the demo workloads and user-written
// scenario files all take this shape. Entry points: Scenario, ScenarioHost, ScenarioOutput, runScenario, ScenarioResult.
import { errnoName } from '../include/errno.ts';
import { ANY } from '../include/endpoint.ts';
import { Panic } from '../lib/assert.ts';
import { isRunnable, rtsString } from '../kernel/proc.ts';
import { bootTable } from './boot.ts';
import { createSystem } from './system.ts';
import type { Breakpoint, System } from './system.ts';
import type { SystemConfig } from './config.ts';

/** One check a scenario made (a PASS or FAIL line of its report). */
export interface Check {
  /** What was checked. */
  name: string;
  /** It passed. */
  ok: boolean;
  /** Extra information, e.g. the result a call got and the one expected ('' if none). */
  detail: string;
}

/** A named piece of work on a fresh system: what `grantvm run` runs, and what a scenario file exports. */
export interface Scenario {
  /** Short name (the command line's argument for built-in scenarios). */
  name: string;
  /** One line saying what it does. */
  title: string;
  /** Config the scenario needs; the caller's overrides (seed, memory, ...) are applied on top. */
  config?: Partial<SystemConfig>;
  /** The conformance suite this scenario belongs to (`grantvm test <suite>`), if any. */
  suite?: string;
  /** Drives the booted system `sys` (spawn, startService, run, inspect, ...) and reports through `out`. */
  run(sys: System, out: ScenarioOutput, host: ScenarioHost): Promise<void>;
}

/**
 * What the host lends a scenario. Core code never reads the host's clock: a timed test uses `clockNs` when the
 * host passes one (the CLI passes performance.now), else the model's own count of kernel entries.
 */
export interface ScenarioHost {
  /** The host's monotonic clock in nanoseconds, for timed tests (the CLI passes one). */
  clockNs?: () => number;
  /** A host breakpoint set on the scenario's system before it boots (System.breakpoint). */
  breakpoint?: Breakpoint;
  /**
   * The host watches the one system it booted (the browser view): a scenario that would repeat itself on
   * further systems (the grant suites' second COW mode) keeps to the configured one.
   */
  oneSystem?: boolean;
}

/** What a scenario writes: checks and narrative lines, in order. */
export class ScenarioOutput {
  /** The checks made so far, in order. */
  readonly checks: Check[] = [];
  /** The report so far: narrative lines and a PASS/FAIL line per check, in order. */
  readonly lines: string[] = [];

  /** A narrative line of the report. */
  line(text: string): void {
    this.lines.push(text);
  }

  /** A check: PASS or FAIL `name`, with an optional detail; returns `ok`. */
  check(name: string, ok: boolean, detail = ''): boolean {
    this.checks.push({ name, ok, detail });
    this.lines.push(`${ok ? 'PASS' : 'FAIL'} ${name}${detail !== '' ? ` — ${detail}` : ''}`);
    return ok;
  }

  /** A check that a call returned `expected` (errno values named in the detail). */
  expectResult(name: string, got: number, expected: number): boolean {
    return this.check(name, got === expected, got === expected ? errnoName(got) : `got ${errnoName(got)}, expected ${errnoName(expected)}`);
  }
}

/** What {@link runScenario} returns: the checks and lines, and how to replay the run. */
export interface ScenarioResult {
  /** The scenario's name. */
  name: string;
  /** The scenario's one-line title. */
  title: string;
  /** The seed it ran with: the same seed, scenario and config replay it exactly. */
  seed: number;
  /** Every check the scenario made, in order. */
  checks: Check[];
  /** Every line of the report in order, checks included. */
  lines: string[];
  /** Kernel steps the run took. */
  steps: number;
  /** Hash of the trace (when kept in memory). */
  traceHash: string;
  /** A panic or an exception that stopped the scenario. */
  error: string | null;
  /**
   * The user programs still waiting when the scenario ended with the system idle: nothing will ever wake them
   * (name, endpoint and what each waits for). Empty when the scenario stopped with an error.
   */
  blocked: string[];
  /** The system after the run, to inspect (null if it did not boot). */
  system: System | null;
}

/** Boots a system with the scenario's config and `overrides` on top, runs the scenario, and collects the result. */
export async function runScenario(s: Scenario, overrides: Partial<SystemConfig> = {}, host: ScenarioHost = {}): Promise<ScenarioResult> {
  const config = { ...s.config, ...overrides };
  const out = new ScenarioOutput();
  let sys: System | null = null;
  let error: string | null = null;
  try {
    sys = await createSystem(config, { breakpoint: host.breakpoint });
    await s.run(sys, out, host);
  } catch (err) {
    error = err instanceof Panic ? `panic: ${err.message}` : err instanceof Error ? err.message : String(err);
  }
  return {
    name: s.name,
    title: s.title,
    seed: config.seed ?? 1,
    checks: out.checks,
    lines: out.lines,
    steps: sys?.kernel.step ?? 0,
    traceHash: sys?.traceHash() ?? '',
    error,
    blocked: sys === null || error !== null || sys.kernel.running ? [] : blockedForever(sys),
    system: sys,
  };
}

/** The user programs (not boot processes, not services) alive but unable to run: on an idle system, for good. */
export function blockedForever(sys: System): string[] {
  const boot = new Set(bootTable().map((e) => e.slot));
  const who = (ep: number | null): string => (ep === null ? '?' : ep === ANY ? 'ANY' : (sys.kernel.procs.find((q) => q.inUse && q.endpoint === ep)?.name ?? String(ep)));
  return sys.kernel.procs
    .filter((p) => p.inUse && !p.priv.system && !boot.has(p.slot) && !isRunnable(p))
    .map((p) => {
      const on = p.sendTo !== null ? ` sending to ${who(p.sendTo)}` : p.recvFrom !== null ? ` receiving from ${who(p.recvFrom)}` : '';
      return `${p.name} (endpoint ${p.endpoint}) waits in ${rtsString(p.rts)}${on}`;
    });
}

/** A scenario passed: it made at least one check, every check passed, and nothing panicked or threw. */
export const scenarioPassed = (r: ScenarioResult): boolean => r.error === null && r.checks.every((c) => c.ok) && r.checks.length > 0;

// ---------------------------------------------------------------- scenario files (the CLI's and the browser view's)

export const SCENARIO_FILE_SHAPE = "must export 'scenario' (an object with name, title and run(sys, out, host)) or a 'scenarios' array of them";

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null;
}

/** What is wrong with `x` as a Scenario, or null if nothing. */
export function scenarioShapeProblem(x: unknown): string | null {
  if (!isRecord(x)) return 'not an object';
  if (typeof x.name !== 'string' || x.name.trim() === '') return "'name' is not a non-empty string";
  if (typeof x.title !== 'string') return `'${x.name}': 'title' is not a string`;
  if (typeof x.run !== 'function') return `'${x.name}': 'run' is not a function`;
  if (x.config !== undefined && (!isRecord(x.config) || Array.isArray(x.config))) return `'${x.name}': 'config' is not an object`;
  if (x.suite !== undefined && typeof x.suite !== 'string') return `'${x.name}': 'suite' is not a string`;
  return null;
}

/** The scenarios an imported scenario module exports (`scenario` and/or `scenarios`), or what is wrong with it. */
export function scenariosOfModuleExports(module: unknown): Scenario[] | string {
  if (!isRecord(module)) return 'not a module';
  const one = module.scenario;
  const many = module.scenarios;
  if (one === undefined && many === undefined) return "exports neither 'scenario' nor 'scenarios'";
  const list: unknown[] = [];
  if (one !== undefined) list.push(one);
  if (many !== undefined) {
    if (!Array.isArray(many)) return "'scenarios' is not an array";
    if (many.length === 0 && one === undefined) return "'scenarios' is empty";
    list.push(...(many as unknown[]));
  }
  for (const s of list) {
    const problem = scenarioShapeProblem(s);
    if (problem !== null) return `bad scenario (${problem})`;
  }
  return list as Scenario[];
}
