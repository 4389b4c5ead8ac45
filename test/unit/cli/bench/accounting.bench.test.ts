// The accounting benchmark (src/cli/bench/accounting.bench.ts): one short real A/B on the boot scenario gives
// the baseline row and the accounting row with its goal, both from positive CPU times.
import { describe, expect, it } from 'vitest';
import { ACCOUNTING_GOAL, runAccountingBench } from '../../../../src/cli/bench/accounting.bench.ts';
import { findScenario } from '../../../../src/sim/scenarios.ts';
import type { Scenario } from '../../../../src/sim/scenario.ts';

describe('runAccountingBench', () => {
  it('times the scenarios with the accounting on and off and reports the ratio against the goal', async () => {
    const scenarios = ['boot'].map((n) => findScenario(n)).filter((s): s is Scenario => s !== undefined);
    expect(scenarios).toHaveLength(1);
    const progress: number[] = [];
    const [off, on] = await runAccountingBench(2, (done) => progress.push(done), scenarios);
    expect(progress).toEqual([1, 2]);
    expect(off?.ratio).toBe(1);
    expect(off?.nsPerOp).toBeGreaterThan(0);
    expect(on?.goal).toBe(ACCOUNTING_GOAL);
    expect(on?.ratio).toBeGreaterThan(0);
    expect(on?.rounds).toBe(2);
    expect(off?.rounds).toBe(2);
    expect(on?.min).toBeLessThanOrEqual(on?.max ?? 0);
    expect(on?.min).toBeGreaterThan(0);
  });
});
