// The safeperf question answered from a sweep (spec/grants.md §7, docs/cost-model.md): from how many pages does
// COW safecopy beat the plain copy, and from how many does safemap beat both — for destinations only read and
// for destinations written. Entry points: safeperfCrossovers, crossoverLines, Crossovers.
import type { SafeperfResult } from '../user/safeperf.ts';

/** Per page count: µs (or steps) per page of plain safecopy, COW safecopy and safemap, for one touch. */
interface Curves {
  pages: number[];
  copy: number[];
  cow: number[];
  map: number[];
}

/** The crossovers of one sweep: a page count, or null when the faster method never stays ahead in the sweep. */
export interface Crossovers {
  /** Destinations only read (the read touch). */
  read: {
    /** First page count from which COW safecopy beats the plain copy at every larger count of the sweep. */
    cowBeatsCopy: number | null;
    /** First page count from which safemap beats both safecopies at every larger count of the sweep. */
    mapBeatsBoth: number | null;
  };
  /** Destinations written (the write touch). */
  write: {
    /** As for `read`, with a write to every page after the call. */
    cowBeatsCopy: number | null;
    /** As for `read`, with a write to every page after the call. */
    mapBeatsBoth: number | null;
  };
  /** The largest page count of the sweep (the crossovers are judged up to it). */
  maxPages: number;
}

/** The first page count from which `wins(i)` holds for every later point, or null. */
function from(pages: readonly number[], wins: (i: number) => boolean): number | null {
  let first: number | null = null;
  for (let i = pages.length - 1; i >= 0 && wins(i); i--) first = pages[i] ?? null;
  return first;
}

function curves(cowOff: readonly SafeperfResult[], cowOn: readonly SafeperfResult[], write: 0 | 1): Curves {
  const pick = (xs: readonly SafeperfResult[], map: 0 | 1): Map<number, number> =>
    new Map(xs.filter((x) => x.map === map && x.write === write).map((x) => [x.pages, Number(x.perPage)]));
  const copy = pick(cowOff, 0);
  const cow = pick(cowOn, 0);
  const map = pick(cowOff, 1);
  const pages = [...copy.keys()].filter((p) => cow.has(p) && map.has(p)).sort((a, b) => a - b);
  const at = (m: Map<number, number>): number[] => pages.map((p) => m.get(p) ?? Number.NaN);
  return { pages, copy: at(copy), cow: at(cow), map: at(map) };
}

function judge(c: Curves): Crossovers['read'] {
  const v = (xs: number[], i: number): number => xs[i] ?? Number.NaN;
  return {
    cowBeatsCopy: from(c.pages, (i) => v(c.cow, i) < v(c.copy, i)),
    mapBeatsBoth: from(c.pages, (i) => v(c.map, i) < Math.min(v(c.copy, i), v(c.cow, i))),
  };
}

/** The crossovers of a sweep run with COW off (plain safecopy, safemap) and with COW on (COW safecopy). */
export function safeperfCrossovers(
  cowOff: readonly SafeperfResult[],
  cowOn: readonly SafeperfResult[],
): Crossovers {
  const read = curves(cowOff, cowOn, 0);
  return { read: judge(read), write: judge(curves(cowOff, cowOn, 1)), maxPages: read.pages.at(-1) ?? 0 };
}

/** The crossovers as report lines. */
export function crossoverLines(x: Crossovers): string[] {
  const say = (n: number | null): string =>
    n === null ? `never (up to ${x.maxPages} pages)` : `from ${n} page${n === 1 ? '' : 's'}`;
  return [
    'crossovers:',
    `  never-written destination: COW safecopy beats the copy ${say(x.read.cowBeatsCopy)}; safemap beats both ${say(x.read.mapBeatsBoth)}`,
    `  written destination:       COW safecopy beats the copy ${say(x.write.cowBeatsCopy)}; safemap beats both ${say(x.write.mapBeatsBoth)}`,
  ];
}
