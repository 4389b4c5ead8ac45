// Shared helpers of the benchmarks: per-round figures summarised as min/median/max (Rounds), the spread that
// makes a figure untrustworthy, and a printed table of ns/op and ratios against the host baseline measured in
// the same run, timed on the wall clock or this process's CPU time (hostNow). Entry points: Rounds, BenchResult,
// spreadOf, isNoisy, verdict, printResults, bestOf, hostNow, useClock.
export interface BenchResult {
  name: string;
  /** The median over rounds (or the one figure of a row measured once). */
  nsPerOp: number;
  /** Against the baseline of its group (the host's own operation): the median of the per-round ratios. */
  ratio: number;
  /** The ratio the issue sets as the goal (≤), if any. */
  goal?: number;
  /** Fastest round (ns/op); with `max` and `rounds`, present for every row measured over rounds. */
  min?: number;
  /** Slowest round (ns/op). */
  max?: number;
  /** Rounds the row was measured in. */
  rounds?: number;
}

/** The clock the benchmarks read: the wall clock, or the CPU time of this process (all its threads, GC included). */
export type BenchClock = 'wall' | 'cpu';

let clock: BenchClock = 'wall';

/** Chooses the clock hostNow reads (`grantvm bench --clock`). */
export function useClock(c: BenchClock): void {
  clock = c;
}

/**
 * Milliseconds on the chosen clock. CPU time counts only while this process runs, so on a machine shared with
 * other work it is far steadier than the wall clock (which also counts the time the process waits for a core).
 */
export function hostNow(): number {
  if (clock === 'wall') return performance.now();
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Optional progress report of a benchmark group: `done` of `total` steps finished. */
export type Progress = (done: number, total: number) => void;

/** A result whose (max − min) / median exceeds this is flagged as noisy: the machine was busy, rerun it. */
export const NOISY_SPREAD = 0.2;

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2;
};

/** (max − min) / median of a row measured over rounds; 0 for a single figure. */
export function spreadOf(r: BenchResult): number {
  if (r.min === undefined || r.max === undefined || r.nsPerOp === 0) return 0;
  return (r.max - r.min) / Math.abs(r.nsPerOp);
}

/** True when the row's rounds disagree by more than NOISY_SPREAD of its median. */
export const isNoisy = (r: BenchResult): boolean => spreadOf(r) > NOISY_SPREAD;

/** What the row says about its goal: met, NOT met, or indicative only (measured in one round), or none. */
export function verdict(r: BenchResult): 'met' | 'NOT met' | 'indicative' | null {
  if (r.goal === undefined) return null;
  if (r.rounds === 1) return 'indicative';
  return r.ratio <= r.goal ? 'met' : 'NOT met';
}

/**
 * The figures of a group's rows, round by round. Rows measured in the same round pair up: a row's ratio is the
 * median over rounds of its figure divided by its baseline's figure of the same round, so a burst of load from
 * elsewhere skews one round of both sides, not the result.
 */
export class Rounds {
  private readonly rows = new Map<string, number[]>();

  /** Records this round's ns/op of row `key`. */
  add(key: string, nsPerOp: number): void {
    const xs = this.rows.get(key);
    if (xs === undefined) this.rows.set(key, [nsPerOp]);
    else xs.push(nsPerOp);
  }

  /** Every figure recorded for row `key`, round by round. */
  samples(key: string): readonly number[] {
    return this.rows.get(key) ?? [];
  }

  /**
   * Row `key` as a result named `name` (default: the key): median, min and max over its rounds, and its ratio
   * against row `baseline` (none: it is a baseline, ratio 1; a number: a fixed baseline in ns/op).
   */
  result(key: string, o: { name?: string; baseline?: string | number; goal?: number } = {}): BenchResult {
    const xs = this.samples(key);
    if (xs.length === 0) throw new Error(`bench: no figures for ${key}`);
    const base = o.baseline;
    let ratios: number[];
    if (base === undefined) ratios = [1];
    else if (typeof base === 'number') ratios = xs.map((x) => x / base);
    else {
      const b = this.samples(base);
      if (b.length !== xs.length) throw new Error(`bench: ${key} and its baseline ${base} differ in rounds`);
      ratios = xs.map((x, i) => x / (b[i] ?? Number.NaN));
    }
    return {
      name: o.name ?? key,
      nsPerOp: median(xs),
      ratio: median(ratios),
      ...(o.goal !== undefined ? { goal: o.goal } : {}),
      min: Math.min(...xs),
      max: Math.max(...xs),
      rounds: xs.length,
    };
  }
}

/** The best (lowest) of `runs` figures of `f`. */
export async function bestOf(runs: number, f: () => Promise<number> | number): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) best = Math.min(best, await f());
  return best;
}

/** Rows of whole passes (seconds each) print in milliseconds, the others in nanoseconds. */
const unitOf = (r: BenchResult): { unit: string; ns: number } => (r.nsPerOp >= 1e7 ? { unit: 'ms', ns: 1e6 } : { unit: 'ns', ns: 1 });

const fmt = (r: BenchResult, ns: number): string => (ns / unitOf(r).ns).toFixed(1);

/** A row's "[min–max, N rounds]" column; empty for a single figure. */
function rangeText(r: BenchResult): string {
  if (r.min === undefined || r.max === undefined || r.rounds === undefined) return '';
  return `[${fmt(r, r.min)}–${fmt(r, r.max)}, ${r.rounds} round${r.rounds === 1 ? '' : 's'}]`;
}

/** The row's goal and noise flags, as printed after its ratio. */
function flagsText(r: BenchResult): string {
  const v = verdict(r);
  let out = '';
  if (v === 'indicative') out += `  goal ≤ ${r.goal ?? ''}: indicative only (1 round)`;
  else if (v !== null) out += `  goal ≤ ${r.goal ?? ''}: ${v}`;
  if (isNoisy(r)) out += `  NOISY: spread ${Math.round(spreadOf(r) * 100)}% > ${NOISY_SPREAD * 100}%`;
  return out;
}

/** Prints a group's table: name, median time per op (ns, or ms for whole passes), [min–max over rounds], ratio, goal verdict and noise flag. */
export function printResults(group: string, results: readonly BenchResult[]): void {
  console.log(`\n${group}`);
  const w = Math.max(...results.map((r) => r.name.length));
  const rw = Math.max(...results.map((r) => rangeText(r).length));
  for (const r of results) {
    const ns = `${fmt(r, r.nsPerOp).padStart(10)} ${unitOf(r).unit}/op (host)`;
    console.log(`  ${r.name.padEnd(w)}  ${ns} ${rangeText(r).padEnd(rw)}  ${r.ratio.toFixed(2).padStart(6)}×${flagsText(r)}`);
  }
}
