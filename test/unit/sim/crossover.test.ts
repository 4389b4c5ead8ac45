// The safeperf crossovers (src/sim/crossover.ts) on made-up curves, and the exact answers of the model under
// both built-in profiles: each sweep takes the page counts either side of the crossover and the largest one.
import { describe, expect, it } from 'vitest';
import { crossoverLines, safeperfCrossovers } from '../../../src/sim/crossover.ts';
import type { Crossovers } from '../../../src/sim/crossover.ts';
import { safeperfSuite } from '../../../src/sim/grantsuites.ts';
import { runScenario, scenarioPassed } from '../../../src/sim/scenario.ts';
import type { SafeperfResult } from '../../../src/user/safeperf.ts';

const row = (pages: number, map: 0 | 1, write: 0 | 1, us: number): SafeperfResult => ({
  pages,
  map,
  write,
  perPage: us.toFixed(3),
  unit: 'ns',
});

describe('safeperfCrossovers', () => {
  it('takes the first page count from which the faster method stays ahead', () => {
    const off: SafeperfResult[] = [];
    const on: SafeperfResult[] = [];
    for (const p of [1, 2, 3, 4]) {
      off.push(row(p, 0, 0, 2), row(p, 0, 1, 2), row(p, 1, 0, 5 - p), row(p, 1, 1, 3));
      // COW read: ahead at 1, behind at 2, ahead from 3 on; COW write: never ahead.
      on.push(row(p, 0, 0, p === 2 ? 2.5 : 1.5), row(p, 0, 1, 4));
    }
    const x = safeperfCrossovers(off, on);
    expect(x).toEqual({
      read: { cowBeatsCopy: 3, mapBeatsBoth: 4 },
      write: { cowBeatsCopy: null, mapBeatsBoth: null },
      maxPages: 4,
    });
    expect(crossoverLines(x)[2]).toBe(
      '  written destination:       COW safecopy beats the copy never (up to 4 pages); safemap beats both never (up to 4 pages)',
    );
  });
});

/** The crossovers `grantvm run safeperf` prints, from a sweep of the given page counts (100 iterations each). */
async function crossoversOf(profile: string, pages: number[]): Promise<string[]> {
  const r = await runScenario(safeperfSuite({ pages }), { profile });
  expect(scenarioPassed(r)).toBe(true);
  const i = r.lines.indexOf('crossovers:');
  expect(i).toBeGreaterThan(0);
  return r.lines.slice(i + 1);
}

const expected = (x: Omit<Crossovers, 'maxPages'>): string[] =>
  crossoverLines({ ...x, maxPages: 50 }).slice(1);

describe('the model answers the safeperf question', () => {
  it('i386-2010: COW safecopy and safemap pay from 3 pages for never-written destinations; for written ones only safemap', async () => {
    expect(await crossoversOf('i386-2010', [2, 3, 50])).toEqual(
      expected({
        read: { cowBeatsCopy: 3, mapBeatsBoth: 3 },
        write: { cowBeatsCopy: null, mapBeatsBoth: 3 },
      }),
    );
  });

  it('modern-x86: COW safecopy and safemap pay only from 8 pages; for written destinations only safemap', async () => {
    expect(await crossoversOf('modern-x86', [7, 8, 50])).toEqual(
      expected({
        read: { cowBeatsCopy: 8, mapBeatsBoth: 8 },
        write: { cowBeatsCopy: null, mapBeatsBoth: 8 },
      }),
    );
  });
});
