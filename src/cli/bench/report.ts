// Shared helpers of the benchmarks: best-of-N timing and a printed table of ns/op and ratios against the
// host baseline measured in the same run.
export interface BenchResult {
  name: string;
  nsPerOp: number;
  /** Against the baseline of its group (the host's own operation). */
  ratio: number;
  /** The ratio the issue sets as the goal (≤), if any. */
  goal?: number;
  /** At least this ratio is the goal (e.g. COW ≤ 0.1 is a maximum, throughput a minimum). */
  unit?: string;
}

/** Optional progress report of a benchmark group: `done` of `total` steps finished. */
export type Progress = (done: number, total: number) => void;

export async function bestOf(runs: number, f: () => Promise<number> | number): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) best = Math.min(best, await f());
  return best;
}

export function printResults(group: string, results: readonly BenchResult[]): void {
  console.log(`\n${group}`);
  const w = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    const goal = r.goal === undefined ? '' : r.ratio <= r.goal ? `  goal ≤ ${r.goal}: met` : `  goal ≤ ${r.goal}: NOT met`;
    console.log(`  ${r.name.padEnd(w)}  ${r.nsPerOp.toFixed(1).padStart(10)} ns/op (host)  ${r.ratio.toFixed(2).padStart(6)}×${goal}`);
  }
}
