// The scenario worker (runner.ts starts it): loads scenario files and runs scenarios one job at a time, under
// the step limit, with the watch record kept up to date for the runner's wall-clock limit. Everything it
// answers is plain data: reports, lines, the trace as text, snapshots. Entry points: the message protocol
// (WorkerRequest, WorkerReply) and its types ScenarioJob, ScenarioInfo, ScenarioReport.
import { parentPort, workerData } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { costFigures } from '../sim/cost.ts';
import type { CostFigures } from '../sim/cost.ts';
import type { SystemConfig } from '../sim/config.ts';
import type { Snapshot } from '../sim/inspect.ts';
import { runScenario } from '../sim/scenario.ts';
import { toJsonLines } from '../sim/trace.ts';
import type { Scenario, ScenarioHost, ScenarioResult } from '../sim/scenario.ts';
import { findScenario } from '../sim/scenarios.ts';
import { safeperfSuite } from '../sim/grantsuites.ts';
import type { SafeperfSweep } from '../sim/grantsuites.ts';
import { crashLines, failureDiagnosis } from './diagnosis.ts';
import { scenariosNamed } from './scenariofile.ts';
import { UsageError } from './options.ts';
import { watchWriter } from './watch.ts';

/** One scenario to run, and what to bring back besides its report. */
export interface ScenarioJob {
  /** The scenario's name, for messages. */
  label: string;
  /** The command line that replays this job (shown when it is stopped). */
  replay: string;
  /** A built-in scenario name or a scenario file, as on the command line; none: the boot alone. */
  scenario?: string;
  /** Which of the scenarios `scenario` names (default 0). */
  index?: number;
  /** Instead of `scenario`: the safeperf suite over these page counts and iterations (bench). */
  sweep?: SafeperfSweep;
  /** Config over the scenario's own (plain values only: they cross the thread boundary). */
  overrides: Partial<SystemConfig>;
  /** Bring back every trace event, as JSON Lines. */
  trace?: boolean;
  /** Bring back a snapshot at this kernel step, or at the end ('end'). */
  snapshot?: number | 'end';
  /** Lend the scenario the host clock (timed tests). */
  hostClock?: boolean;
  /** Bring back the trace in the Chrome trace-event format, with simulated durations. */
  chrome?: boolean;
  /** Bring back the run's cost figures (simulated time and counts: grantvm compare). */
  figures?: boolean;
  /** A suite that would boot a second system (the other COW mode) keeps to this one. */
  oneSystem?: boolean;
}

/** A scenario an argument names. */
export interface ScenarioInfo {
  /** The argument (built-in name or scenario file). */
  arg: string;
  /** Its position among the scenarios of `arg`. */
  index: number;
  /** The scenario's name. */
  name: string;
  /** Its one-line title. */
  title: string;
  /** The seed its config sets (default 1). */
  seed: number;
}

/** A scenario's result as plain data (ScenarioResult without the system), with what the job asked for. */
export type ScenarioReport = Omit<ScenarioResult, 'system'> & {
  /** Programs that threw: step, process, error and where in the user's source. */
  crashes: string[];
  /** After a panic or a kill: the incidents and the last failed calls (failureDiagnosis). */
  diagnosis: string[];
  /** The cost profile the system ran under ('' if it did not boot). */
  profile: string;
  /**
   * Every trace event as JSON Lines, if asked: one string crosses the thread boundary as one copy, where the events
   * as objects (400 000 in safeperf) would be cloned one by one, then collected by both threads.
   */
  trace?: string;
  /** How many trace events the run kept (config.trace 'memory'), 0 if none. */
  events: number;
  /** The trace in the Chrome trace-event format, if asked. */
  chrome?: string;
  /** The run's cost figures, if asked. */
  figures?: CostFigures;
  /** The snapshot asked for, if the run reached it. */
  snapshot?: Snapshot;
};

/** What the runner sends; `forget`: the command that had the worker ended, drop what it loaded (no answer). */
export type WorkerRequest = { list: readonly string[] } | { job: ScenarioJob } | { forget: true };

/**
 * What the worker says: it is ready (once, first), a result or a usage error (and whether the worker is still
 * pristine), another error, or (while a job runs) host-clock reads.
 */
export type WorkerReply =
  | { type: 'result'; value: ScenarioInfo[] | ScenarioReport; pristine: boolean }
  | { type: 'usage'; message: string; pristine: boolean }
  | { type: 'error'; message: string }
  | { type: 'clock'; reads: number }
  | { type: 'ready' };

// Stack frames of TypeScript scenario files point into the user's source (tsx emits inline source maps).
process.setSourceMapsEnabled(true);

const data = workerData as { shared: SharedArrayBuffer; maxSteps: number };
const ownSources = fileURLToPath(new URL('../', import.meta.url));
const loaded = new Map<string, Scenario[]>();
/**
 * Nothing a later command could see lives in this worker: no .js or .mjs scenario file was imported (Node keeps
 * such a module for the thread's life), while a .ts or .mts file comes fresh, with its imports, from every
 * tsImport (scenariofile.ts).
 */
let pristine = true;

async function scenariosOf(arg: string): Promise<Scenario[]> {
  pristine &&= findScenario(arg) !== undefined || /\.m?ts$/.test(arg);
  const got = loaded.get(arg) ?? (await scenariosNamed(arg));
  loaded.set(arg, got);
  return got;
}

async function list(args: readonly string[]): Promise<ScenarioInfo[]> {
  const out: ScenarioInfo[] = [];
  for (const arg of args)
    (await scenariosOf(arg)).forEach((s, index) =>
      out.push({ arg, index, name: s.name, title: s.title, seed: s.config?.seed ?? 1 }),
    );
  return out;
}

/** The boot alone (inspect without a scenario). */
const bootOnly: Scenario = { name: 'the boot', title: 'the boot', run: () => Promise.resolve() };

async function scenarioOf(job: ScenarioJob): Promise<Scenario> {
  if (job.sweep !== undefined) return safeperfSuite(job.sweep);
  if (job.scenario === undefined) return bootOnly;
  const s = (await scenariosOf(job.scenario))[job.index ?? 0];
  if (s === undefined) throw new UsageError(`${job.scenario} has no scenario number ${job.index ?? 0}`);
  return s;
}

/** Thrown by the snapshot breakpoint once the snapshot is taken: the rest of the run is not needed. */
class SnapshotTaken extends Error {}

async function run(job: ScenarioJob): Promise<ScenarioReport> {
  new Uint8Array(data.shared).fill(0);
  const scenario = await scenarioOf(job);
  let snapshot: Snapshot | undefined;
  const host: ScenarioHost = {};
  if (job.hostClock === true) host.clockNs = countedClock();
  if (job.oneSystem === true) host.oneSystem = true;
  if (typeof job.snapshot === 'number')
    host.breakpoint = {
      step: job.snapshot,
      hit: (sys) => {
        snapshot = sys.inspect();
        throw new SnapshotTaken();
      },
    };
  const overrides = { ...job.overrides, stepLimit: data.maxSteps, watch: watchWriter(data.shared) };
  const r = await runScenario(scenario, overrides, host);
  if (job.snapshot === 'end' && r.system !== null) snapshot = r.system.inspect();
  return {
    name: r.name,
    title: r.title,
    seed: r.seed,
    checks: r.checks,
    lines: r.lines,
    steps: r.steps,
    traceHash: r.traceHash,
    blocked: r.blocked,
    // The snapshot breakpoint's own stop is no error of the scenario's.
    error: snapshot !== undefined && typeof job.snapshot === 'number' ? null : r.error,
    crashes: crashLines(r.system?.kernel.crashes ?? [], ownSources),
    diagnosis: failureDiagnosis(r.system?.untimedTrace ?? []),
    profile: r.system?.clock.profile.name ?? '',
    events: r.system?.untimedTrace.length ?? 0,
    ...(job.trace === true ? { trace: toJsonLines(r.system?.trace ?? []) } : {}),
    ...(job.chrome === true && r.system !== null ? { chrome: r.system.chromeTrace() } : {}),
    ...(job.figures === true && r.system !== null ? { figures: costFigures(r.system) } : {}),
    ...(snapshot !== undefined ? { snapshot } : {}),
  };
}

/** The host clock, telling the runner every 1000th read (a timed suite's progress). */
function countedClock(): () => number {
  let reads = 0;
  return () => {
    if (++reads % 1000 === 0) reply({ type: 'clock', reads });
    return performance.now() * 1e6;
  };
}

function reply(m: WorkerReply): void {
  parentPort?.postMessage(m);
}

parentPort?.on('message', (request: WorkerRequest) => {
  if ('forget' in request) {
    loaded.clear();
    return;
  }
  const work = 'list' in request ? list(request.list) : run(request.job);
  work.then(
    (value) => {
      reply({ type: 'result', value, pristine });
    },
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      reply(err instanceof UsageError ? { type: 'usage', message, pristine } : { type: 'error', message });
    },
  );
});
reply({ type: 'ready' });
