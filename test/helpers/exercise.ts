// What every exercise topic's test checks over a sweep of seeds: each problem is well formed, no two seeds give
// the same problem, the answers vary across seeds, and the model's answers equal an independent computation from
// the givens. Entry points: sweep, expectSweepValid, expectAnswers, sweepTests.
import { expect, it } from 'vitest';
import type { Exercise } from '../../src/sim/exercise/types.ts';

/** Seeds 1..n of one generator at one level. */
export async function sweep<G>(
  generate: (seed: number, level: number) => Promise<Exercise<G>> | Exercise<G>,
  level: number,
  n: number,
): Promise<Exercise<G>[]> {
  const out: Exercise<G>[] = [];
  for (let seed = 1; seed <= n; seed++) out.push(await generate(seed, level));
  return out;
}

/** Well formed (one answer per question, in order), distinct problems, at least two distinct answers for some question. */
export function expectSweepValid(list: readonly Exercise[]): void {
  for (const e of list) {
    expect(e.questions.length, `seed ${e.seed}`).toBeGreaterThan(0);
    expect(e.answers.map((a) => a.id)).toEqual(e.questions.map((q) => q.id));
    for (const a of e.answers) {
      expect(a.value, `seed ${e.seed} ${a.id}`).not.toBe('');
      expect(a.why, `seed ${e.seed} ${a.id}`).not.toBe('');
    }
  }
  const problems = new Set(list.map((e) => JSON.stringify([e.statement, e.questions])));
  expect(problems.size).toBe(list.length);
  const values = new Set(list.flatMap((e) => e.answers.map((a) => a.value)));
  expect(values.size).toBeGreaterThan(2);
}

/** The model's answers equal `expected` (question id → value) for every seed. */
export function expectAnswers<G>(
  list: readonly Exercise<G>[],
  solve: (givens: G) => Record<string, string>,
): void {
  for (const e of list) {
    const want = solve(e.givens);
    const got = Object.fromEntries(e.answers.map((a) => [a.id, a.value]));
    expect(got, `${e.topic} seed ${e.seed} level ${e.level}`).toEqual(want);
  }
}

/**
 * One test per (level, number of seeds): the sweep is valid, distinct and agrees with `solve`; `also` then checks
 * the set of answer values seen (e.g. that every kind of answer occurs).
 */
export function sweepTests<G>(
  generate: (seed: number, level: number) => Promise<Exercise<G>> | Exercise<G>,
  solve: (givens: G) => Record<string, string>,
  runs: readonly (readonly [number, number])[],
  also: (values: Set<string>, level: number) => void,
): void {
  for (const [level, n] of runs) {
    it(`level ${level}: seeds 1–${n} are valid, distinct, and agree with the independent model`, async () => {
      const list = await sweep(generate, level, n);
      expectSweepValid(list);
      expectAnswers(list, solve);
      also(new Set(list.flatMap((e) => e.answers.map((a) => a.value))), level);
    }, 30_000);
  }
}
