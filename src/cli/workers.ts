// Worker threads for the CLI's parallel jobs (fuzz and faults --jobs). A worker runs one module of src/cli; in a
// source checkout that module is TypeScript, so the worker registers tsx before importing it (module hooks do not
// cross into a worker), while the installed package's built .js loads as it is. Entry points: startWorker,
// defaultJobs, parseJobs.
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
 * Starts `module` (a URL of a module beside the caller, e.g. `new URL('./fuzzworker.ts', import.meta.url)` with the
 * caller's own extension) in a worker thread, handing it `data` as `workerData.data`.
 */
export function startWorker(module: URL, data: unknown): Worker {
  return new Worker(BOOT, { eval: true, workerData: { entry: module.href, data } });
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
  if (!/^\d+$/.test(text.trim()) || n < 1 || n > 256) throw new InvalidArgumentError(`'${text}' is not a number of jobs (1 to 256)`);
  return n;
}
