// The accounting benchmark (src/cli/bench/accounting.bench.ts): one short real A/B of each workload (the boot
// scenario; one fuzz run), every side on its own worker thread, gives per workload the baseline row and the
// accounting row with its goal, both from positive CPU times.
import { describe, expect, it } from 'vitest';
import { ACCOUNTING_GOAL, runAccountingBench } from '../../../../src/cli/bench/accounting.bench.ts';

describe('runAccountingBench', () => {
  it('times each workload with the accounting on and off on fresh workers and reports the ratio against the goal', async () => {
    const progress: number[] = [];
    const rows = await runAccountingBench(1, (done) => progress.push(done), { scenarios: ['boot'], fuzzRuns: 1 });
    expect(progress).toEqual([1]);
    expect(rows.map((r) => r.name)).toEqual([
      'grantvm run: 1 scenario, accounting off (baseline: CPU time of one pass)',
      'grantvm run: 1 scenario, accounting on',
      'fuzz: 1 run × 40 commands, accounting off (baseline: CPU time of one pass)',
      'fuzz: 1 run × 40 commands, accounting on',
    ]);
    for (const [i, r] of rows.entries()) {
      expect(r.rounds).toBe(1);
      expect(r.min).toBeGreaterThan(0);
      expect(r.min).toBeLessThanOrEqual(r.max ?? 0);
      if (i % 2 === 0) {
        expect(r.ratio).toBe(1);
        expect(r.goal).toBeUndefined();
      } else {
        expect(r.goal).toBe(ACCOUNTING_GOAL);
        expect(r.ratio).toBeGreaterThan(0);
      }
    }
  }, 120_000);

  it('refuses a scenario it does not know, from the worker', async () => {
    await expect(runAccountingBench(1, undefined, { scenarios: ['no-such'], fuzzRuns: 1 })).rejects.toThrow(/no scenario 'no-such'/);
  }, 60_000);
});
