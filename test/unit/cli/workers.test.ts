// Job workers (src/cli/workers.ts): one worker thread per job; with keepJobWorkers, the workers of a module that
// serves jobs one after another are kept when done and given the next jobs, each with its own data.
import { describe, expect, it } from 'vitest';
import { keepJobWorkers, runWorkers } from '../../../src/cli/workers.ts';

const module = new URL('./threadjob.ts', import.meta.url);
type Done = { type: 'done'; job: number; thread: number };
const run = (jobs: number[], reusable: boolean): Promise<Done[]> =>
  runWorkers<Done>(module, jobs, () => undefined, reusable);
const threads = (ds: Done[]): number[] => ds.map((d) => d.thread).sort((a, b) => a - b);

describe('runWorkers', () => {
  it("starts a worker per job, and with keepJobWorkers gives a reusable module's next jobs to the kept ones", async () => {
    keepJobWorkers();
    const kept = await run([1, 2], true);
    expect(kept.map((d) => d.job)).toEqual([1, 2]);
    const next = await run([3, 4], true);
    expect(next.map((d) => d.job)).toEqual([3, 4]);
    expect(threads(next)).toEqual(threads(kept));
    // A module that is not reusable gets a new worker all the same.
    const own = await run([5], false);
    expect(threads(kept)).not.toContain(own[0]?.thread);
    // More jobs than kept workers: the others start.
    const more = await run([6, 7, 8], true);
    expect(more.map((d) => d.job)).toEqual([6, 7, 8]);
    expect(threads(more).filter((t) => threads(kept).includes(t))).toHaveLength(2);
  });
});
