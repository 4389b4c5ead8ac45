// Every command that runs a scenario (run, trace, inspect, test, bench safeperf) runs it here: in a worker
// thread, under a kernel-step limit and a wall-clock limit, so that nothing a scenario does can hang the
// command. A loop that enters the kernel stops at the step limit inside the worker (the scenario's report
// says where); a loop that never does (a JavaScript loop cannot be preempted in place) is ended by
// terminating the worker, and the command stops with one line saying where and how to replay. Jobs and
// results cross the thread boundary as plain data (worker.ts does the running). Entry points: withRunner,
// Runner (list, run), oneScenario, RunStopped, RunLimits, DEFAULT_MAX_STEPS, DEFAULT_TIMEOUT_SECONDS.
import type { Worker } from 'node:worker_threads';
import { newWorker, siblingModule } from './workers.ts';
import type { ScenarioJob, ScenarioInfo, ScenarioReport, WorkerReply, WorkerRequest } from './worker.ts';
import { WATCH_BYTES, readWatch } from './watch.ts';
import { UsageError } from './options.ts';

export type { ScenarioJob, ScenarioInfo, ScenarioReport } from './worker.ts';

/** Kernel entries a scenario may make (safeperf, the longest built-in, takes about 300 000). */
export const DEFAULT_MAX_STEPS = 2_000_000;
/** Wall-clock seconds a scenario (or the loading of a scenario file) may take. */
export const DEFAULT_TIMEOUT_SECONDS = 300;

/** The limits every scenario runs under. */
export interface RunLimits {
  /** Kernel steps per system (the config's stepLimit). */
  maxSteps: number;
  /** Wall-clock seconds per job. */
  timeoutSeconds: number;
}

/** A scenario went past the wall-clock limit: the command stops with this one line (exit status 1). */
export class RunStopped extends Error {
  /** 'RunStopped'. */
  override readonly name = 'RunStopped';
}

/** The worker a command runs its scenarios in, one job at a time. */
export interface Runner {
  /** The scenarios each argument names (a built-in name or a scenario file), loaded in the worker. */
  list(args: readonly string[]): Promise<ScenarioInfo[]>;
  /** Runs one scenario; `onClockReads` hears every 1000th read of the host clock (for progress). */
  run(job: ScenarioJob, onClockReads?: (reads: number) => void): Promise<ScenarioReport>;
}

/** The one scenario `arg` names, for the commands that take one (`what`: the command, for the error). */
export async function oneScenario(runner: Runner, arg: string, what: string): Promise<ScenarioInfo> {
  const list = await runner.list([arg]);
  const [first] = list;
  if (first === undefined || list.length > 1)
    throw new UsageError(
      `${arg} has ${list.length} scenarios (${list.map((s) => s.name).join(', ')}); ${what} takes one`,
    );
  return first;
}

/** Starts a worker when first needed, lends it to `use`, and ends it whatever happens. */
export async function withRunner<T>(limits: RunLimits, use: (runner: Runner) => Promise<T>): Promise<T> {
  const host = new WorkerHost(limits);
  const runner: Runner = {
    list: (args) => host.ask({ list: args }, args.join(', '), `grantvm run --list ${args.join(' ')}`),
    run: (job, onClockReads) => host.ask({ job }, `'${job.label}'`, job.replay, onClockReads),
  };
  try {
    return await use(runner);
  } finally {
    await host.stop();
  }
}

/** A started worker: ready once it has loaded; its watch record; whether another command may have it next. */
interface Started {
  w: Worker;
  ready: Promise<void>;
  shared: SharedArrayBuffer;
  maxSteps: number;
  /**
   * The process's working directory when it started: tsx's compiler (esbuild) starts its helper process there, and
   * a helper started later in a directory since removed fails with ENOENT.
   */
  cwd: string;
  /** Its last answer was a result from a worker that has loaded no scenario file (worker.ts: pristine). */
  reusable: boolean;
}

/**
 * How many idle workers a host keeps: one per working directory and step limit, the last used. Two, so that a
 * host whose commands alternate between two directories (the test host: the repository and a docs page's
 * scratch directory) starts no worker for either.
 */
const KEPT_WORKERS = 2;

/** Whether a command's worker outlives it (keepScenarioWorkers), and the idle ones kept, the last used last. */
const keep: { on: boolean; kept: Started[] } = { on: false, kept: [] };

/**
 * For a host that runs many commands in one process (the test host): when a command ends, its scenario worker is kept,
 * if it is pristine (worker.ts: no module of a scenario file can reach the next command) and its last job did not fail
 * (a usage error, a bad argument or scenario file, is not a failure of the worker), forgets the scenarios it loaded,
 * and is lent to the next command with the same step limit in the same working directory, which so does not load the
 * sources again. Off by default: the grantvm process ends its worker with its command. What a command prints is the
 * same.
 */
export function keepScenarioWorkers(): void {
  keep.on = true;
}

/** The kept worker that runs under `maxSteps` and was started in the current directory, if there is one. */
function takeKept(maxSteps: number): Started | null {
  const i = keep.kept.findIndex((k) => k.maxSteps === maxSteps && k.cwd === process.cwd());
  return i < 0 ? null : (keep.kept.splice(i, 1)[0] ?? null);
}

/** One worker at a time: asked one question at a time, replaced after it was stopped or it died. */
class WorkerHost {
  private worker: Started | null = null;

  constructor(private readonly limits: RunLimits) {}

  /** The worker, started if need be, once it has loaded (its start-up is not the scenario's time). */
  private async started(): Promise<Started> {
    this.worker ??= takeKept(this.limits.maxSteps) ?? startWorker(this.limits.maxSteps);
    await this.worker.ready;
    return this.worker;
  }

  /** Sends `request`; resolves with the worker's answer, or rejects (UsageError, RunStopped, Error). */
  async ask<R>(
    request: object,
    what: string,
    replay: string,
    onClockReads?: (reads: number) => void,
  ): Promise<R> {
    const started = await this.started();
    const { w, shared } = started;
    started.reusable = false;
    return new Promise<R>((resolve, reject) => {
      const finish = (err: Error | null, value?: R): void => {
        clearTimeout(timer);
        w.off('message', onMessage).off('error', onError).off('exit', onExit);
        if (err === null) resolve(value as R);
        else reject(err);
      };
      const lost = (why: string): void => {
        this.worker = null;
        void w.terminate();
        finish(new RunStopped(`${what} ${why}; replay: ${replay}`));
      };
      const timer = setTimeout(() => {
        lost(`stopped after ${this.limits.timeoutSeconds} s (--timeout), ${readWatch(shared)}`);
      }, this.limits.timeoutSeconds * 1000);
      const onMessage = (m: WorkerReply): void => {
        if (m.type === 'clock') onClockReads?.(m.reads);
        else if (m.type === 'result') {
          started.reusable = m.pristine;
          finish(null, m.value as R);
        } else if (m.type === 'usage') {
          // A bad argument or scenario file, refused before it ran: the worker is as it was.
          started.reusable = m.pristine;
          finish(new UsageError(m.message));
        } else if (m.type === 'error') finish(new Error(m.message));
      };
      const onError = (err: Error): void => {
        lost(`crashed the scenario worker (${err.message.split('\n')[0] ?? ''}), ${readWatch(shared)}`);
      };
      const onExit = (code: number): void => {
        lost(`ended the scenario worker (exit status ${code}), ${readWatch(shared)}`);
      };
      w.on('message', onMessage).on('error', onError).on('exit', onExit);
      w.postMessage(request);
    });
  }

  /** Ends the worker now rather than wait for it to notice it has nothing left to do (or keeps it: keepScenarioWorkers). */
  async stop(): Promise<void> {
    const s = this.worker;
    this.worker = null;
    if (s === null) return;
    if (!keep.on || !s.reusable) {
      await s.w.terminate();
      return;
    }
    s.w.postMessage({ forget: true } satisfies WorkerRequest);
    keep.kept.push(s);
    const old = keep.kept.length > KEPT_WORKERS ? keep.kept.shift() : undefined;
    if (old !== undefined) await old.w.terminate();
  }
}

/** A worker running worker.ts: the compiled one in the package, or the source through tsx in a checkout. */
function startWorker(maxSteps: number): Started {
  const shared = new SharedArrayBuffer(WATCH_BYTES);
  const w = newWorker(siblingModule('worker', import.meta.url), { shared, maxSteps });
  const ready = new Promise<void>((resolve, reject) => {
    w.once('message', () => {
      resolve();
    });
    w.once('error', reject);
  });
  return { w, ready, shared, maxSteps, cwd: process.cwd(), reusable: false };
}
