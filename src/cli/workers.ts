// Worker threads of the CLI: the scenario runner's worker (runner.ts) and the parallel jobs of fuzz and faults. A
// worker runs one module of src/cli; in a source checkout that module is TypeScript, so the worker registers tsx
// before importing it (module hooks do not cross into a worker), while the installed package's built .js loads as
// it is. A job module that serves one job after another (serveJobs) may have its workers kept between commands
// (keepJobWorkers, for a host that runs many commands in one process). Entry points: newWorker, runWorkers,
// serveJobs, keepJobWorkers, siblingModule, defaultJobs, parseJobs.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { InvalidArgumentError } from 'commander';

/** A worker thread running `module` (see {@link siblingModule}) with `workerData`. */
export function newWorker(module: URL, workerData: unknown): Worker {
  if (!module.href.endsWith('.ts')) return new Worker(module, { workerData });
  // tsx's ESM entry (next to the CommonJS one require finds), imported by a boot module that then imports `module`.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(
    /\.cjs$/,
    '.mjs',
  );
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(module.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData });
}

/** Whether job workers outlive their command (keepJobWorkers), and the idle ones by module. */
const keep = { on: false, idle: new Map<string, Worker[]>() };

/**
 * For a host that runs many commands in one process (the test host): the workers of a module that serves one job
 * after another (serveJobs) are kept idle when their job is done and given the next jobs of that module, which
 * so do not load the sources again. Off by default: the grantvm process ends each worker with its job. Jobs carry
 * all they need, and those modules keep no state between jobs, so what a command prints is the same.
 */
export function keepJobWorkers(): void {
  keep.on = true;
}

/** An idle kept worker of `module` given `data` as its next job, or a new worker started with it. */
function jobWorker(module: URL, data: unknown, reusable: boolean): Worker {
  const w = reusable && keep.on ? keep.idle.get(module.href)?.pop() : undefined;
  if (w === undefined) return newWorker(module, { data });
  w.ref();
  w.postMessage({ job: data });
  return w;
}

/**
 * Runs `module` (see {@link siblingModule}) once per job on its own worker thread, handing it the job as
 * `workerData.data` (or, for a kept worker of a `reusable` module, one that calls serveJobs, as a message);
 * `onMessage` gets every message a worker posts. A worker's message of type 'done' is its last: the promise
 * resolves to those, one per job, once every worker has posted one and ended (or was kept), and rejects if a
 * worker fails or ends before it.
 */
export function runWorkers<M extends { type: string }>(
  module: URL,
  jobs: readonly unknown[],
  onMessage: (job: number, m: M) => void,
  reusable = false,
): Promise<M[]> {
  const one = (data: unknown, i: number): Promise<M> =>
    new Promise((resolve, reject) => {
      const w = jobWorker(module, data, reusable);
      let last: M | undefined;
      const onExit = (code: number): void => {
        if (last !== undefined) resolve(last);
        else reject(new Error(`job ${i} ended (exit code ${code}) before its report`));
      };
      const onDone = (m: M): void => {
        onMessage(i, m);
        if (m.type !== 'done') return;
        last = m;
        if (!(reusable && keep.on)) {
          void w.terminate();
          return;
        }
        w.off('message', onDone).off('error', reject).off('exit', onExit).unref();
        keep.idle.set(module.href, [...(keep.idle.get(module.href) ?? []), w]);
        resolve(m);
      };
      w.on('message', onDone).on('error', reject).on('exit', onExit);
    });
  return Promise.all(jobs.map(one));
}

/**
 * The body of a job module for runWorkers with `reusable`: runs `work` on the job of `workerData.data`, then on
 * each job sent as a message, one at a time; `work` posts its messages through `post`, its last of type 'done'.
 */
export function serveJobs(work: (job: never, post: (m: object) => void) => Promise<void>): void {
  const port = parentPort;
  if (port === null) throw new Error('a job module runs in a worker thread');
  const post = (m: object): void => {
    port.postMessage(m);
  };
  // A job that throws ends the worker with its error, as an error of the module would (runWorkers rejects). A job
  // comes only to an idle worker, after its 'done'.
  void work((workerData as { data: never }).data, post);
  port.on('message', (m: { job: never }) => {
    void work(m.job, post);
  });
}

/** The module `name` beside `from` (an import.meta.url), with the extension `from` has: .ts from source, .js built. */
export function siblingModule(name: string, from: string): URL {
  return new URL(`./${name}${from.endsWith('.ts') ? '.ts' : '.js'}`, from);
}

/** The default number of jobs: the processors Node may use. */
export const defaultJobs = (): number => availableParallelism();

/** "--jobs N": a positive whole number. */
export function parseJobs(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 256)
    throw new InvalidArgumentError(`'${text}' is not a number of jobs (1 to 256)`);
  return n;
}
