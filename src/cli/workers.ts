// Worker threads for the CLI's parallel jobs (fuzz and faults --jobs). A worker runs one module of src/cli; in a
// source checkout that module is TypeScript, so the worker registers tsx before importing it (module hooks do not
// cross into a worker), while the installed package's built .js loads as it is. Entry points: runWorkers,
// siblingModule, defaultJobs, parseJobs.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { InvalidArgumentError } from 'commander';

// CommonJS, as an eval'd worker is: the dynamic imports load the ES module (and tsx first when it is .ts).
const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.entry.endsWith('.ts')) (await import('tsx/esm/api')).register();
  await import(workerData.entry);
})();
`;

/**
 * Runs `module` (see {@link siblingModule}) once per job on its own worker thread, handing it the job as
 * `workerData.data`; `onMessage` gets every message a worker posts. A worker's message of type 'done' is its last:
 * the promise resolves to those, one per job, when every worker has posted one, and rejects if a worker fails or
 * ends before it.
 */
export function runWorkers<M extends { type: string }>(
  module: URL,
  jobs: readonly unknown[],
  onMessage: (job: number, m: M) => void,
): Promise<M[]> {
  const one = (data: unknown, i: number): Promise<M> =>
    new Promise((resolve, reject) => {
      const w = new Worker(BOOT, { eval: true, workerData: { entry: module.href, data } });
      let done = false;
      w.on('message', (m: M) => {
        onMessage(i, m);
        if (m.type !== 'done') return;
        done = true;
        resolve(m);
        void w.terminate();
      });
      w.on('error', reject);
      w.on('exit', (code) => {
        if (!done) reject(new Error(`job ${i} ended (exit code ${code}) before its report`));
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
