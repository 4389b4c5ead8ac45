// Worker threads of the CLI: the scenario runner's worker (runner.ts) and the parallel jobs of fuzz and faults. A
// worker runs one module of src/cli; in a source checkout that module is TypeScript, so the worker registers tsx
// before importing it (module hooks do not cross into a worker), while the installed package's built .js loads as
// it is. Entry points: newWorker, runWorkers, siblingModule, defaultJobs, parseJobs.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError } from 'commander';

/** A worker thread running `module` (see {@link siblingModule}) with `workerData`. */
export function newWorker(module: URL, workerData: unknown): Worker {
  if (!module.href.endsWith('.ts')) return new Worker(module, { workerData });
  // tsx's ESM entry (next to the CommonJS one require finds), imported by a boot module that then imports `module`.
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const boot = `import { register } from ${JSON.stringify(tsx)}; register(); await import(${JSON.stringify(module.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData });
}

/**
 * Runs `module` (see {@link siblingModule}) once per job on its own worker thread, handing it the job as
 * `workerData.data`; `onMessage` gets every message a worker posts. A worker's message of type 'done' is its last:
 * the promise resolves to those, one per job, once every worker has posted one and ended, and rejects if a worker
 * fails or ends before it.
 */
export function runWorkers<M extends { type: string }>(
  module: URL,
  jobs: readonly unknown[],
  onMessage: (job: number, m: M) => void,
): Promise<M[]> {
  const one = (data: unknown, i: number): Promise<M> =>
    new Promise((resolve, reject) => {
      const w = newWorker(module, { data });
      let last: M | undefined;
      w.on('message', (m: M) => {
        onMessage(i, m);
        if (m.type !== 'done') return;
        last = m;
        void w.terminate();
      });
      w.on('error', reject);
      w.on('exit', (code) => {
        if (last !== undefined) resolve(last);
        else reject(new Error(`job ${i} ended (exit code ${code}) before its report`));
      });
    });
  return Promise.all(jobs.map(one));
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
