// The cost topic: seeds make valid, distinct problems, and every answer equals a recomputation from the cycle
// counter's per-kind counts of each way times the profile's cost per kind (copyByte at clockMHz / copyMBps): the
// way with fewer cycles is cheaper, by the difference in µs at clockMHz cycles per µs.
import { describe, expect, it } from 'vitest';
import { COST_KINDS, builtinProfiles } from '../../../../src/hw/profile.ts';
import { costExercise, measureWay } from '../../../../src/sim/exercise/cost.ts';
import type { CostGivens } from '../../../../src/sim/exercise/cost.ts';
import { expectAnswers, expectSweepValid, sweep } from '../../../helpers/exercise.ts';

/** Cycles of one way from its per-kind counts and the profile's table. */
async function cyclesOf(g: CostGivens, i: 0 | 1): Promise<number> {
  const p = builtinProfiles[g.profile];
  if (p === undefined) throw new Error(`no profile ${g.profile}`);
  const { counts, cycles } = await measureWay(g.profile, g.pages, g.ways[i]);
  let sum = 0;
  for (const k of COST_KINDS) sum += counts[k] * (k === 'copyByte' ? p.clockMHz / p.copyMBps : p[k]);
  expect(sum).toBeCloseTo(cycles, 6);
  expect(sum).toBeGreaterThan(0);
  return sum;
}

async function solve(g: CostGivens): Promise<Record<string, string>> {
  const a = await cyclesOf(g, 0);
  const b = await cyclesOf(g, 1);
  const mhz = builtinProfiles[g.profile]?.clockMHz ?? Number.NaN;
  return { cheaper: a < b ? 'A' : b < a ? 'B' : 'same', by: (Math.abs(a - b) / mhz).toFixed(1) };
}

describe('exercise cost', () => {
  for (const [level, n] of [
    [1, 30],
    [2, 20],
  ] as const) {
    it(`level ${String(level)}: seeds 1–${String(n)} are valid, distinct, and agree with the per-kind recomputation`, async () => {
      const list = await sweep(costExercise, level, n);
      expectSweepValid(list);
      const want = new Map<number, Record<string, string>>();
      for (const e of list) want.set(e.seed, await solve(e.givens));
      expectAnswers(list, (g) => want.get(list.find((e) => e.givens === g)?.seed ?? -1) ?? {});
      const winners = new Set(list.map((e) => e.answers[0]?.value));
      expect(winners).toContain('A');
      expect(winners).toContain('B');
      if (level === 2) expect(new Set(list.map((e) => e.givens.profile)).size).toBe(2);
    }, 30_000);
  }
});
