// Benchmarks what the cost model's accounting costs the host, as a user meets it: `grantvm run`'s scenarios (the
// trace kept in memory, hashed and scanned for the failure diagnosis, as the scenario worker does) and a fuzz run
// (runs of 40 commands checked after every kernel entry, as `grantvm fuzz` does), each with the accounting on and
// off (SystemConfig.accounting). Every side runs cold on a fresh worker thread, one at a time, so the two sides
// never share a heap or a garbage collector (sharing one made the in-process comparison read 15–20% where whole
// processes read about 0%); the order of on and off is swapped every round. A side's figure is the CPU time of its
// workload (user + system, the collector's threads included), which a shared machine disturbs far less than the
// wall clock; a round's ratio is on ÷ off, and the row's ratio is the median of the rounds. Both sides must do the
// same work (same trace hashes, same fuzz totals). Entry point: runAccountingBench (`grantvm bench accounting`).
import { defaultReport } from '../../sim/scenarios.ts';
import { runWorkers, siblingModule } from '../workers.ts';
import { Rounds } from './report.ts';
import type { BenchResult, Progress } from './report.ts';

/** The goal of issue 12: the accounting costs at most 10% host time on `grantvm run` and on a fuzz run. */
export const ACCOUNTING_GOAL = 1.1;

/** One side of a round, run by accountingworker.ts. */
export interface AccountingJob {
  workload: 'run' | 'fuzz';
  accounting: boolean;
  /** The scenarios of the 'run' workload, by name. */
  scenarios: readonly string[];
  /** Runs of the 'fuzz' workload. */
  fuzzRuns: number;
}

/** What a side reports: the CPU milliseconds of its workload and a digest of the work done. */
export interface AccountingSide {
  type: 'done';
  ms: number;
  digest: string;
}

/** What to measure: scenario names (default: `grantvm run`'s) and fuzz runs (default 12). */
export interface AccountingWorkload {
  scenarios?: readonly string[];
  fuzzRuns?: number;
}

const WORKLOADS = ['run', 'fuzz'] as const;

/** One side on its own worker thread; resolves once the thread has ended, so no two sides ever overlap. */
async function side(job: AccountingJob): Promise<AccountingSide> {
  const [r] = await runWorkers<AccountingSide>(siblingModule('accountingworker', import.meta.url), [job], () => undefined);
  if (r === undefined) throw new Error('bench accounting: the worker gave no report');
  return r;
}

/**
 * Runs `rounds` rounds; in each, both workloads with the accounting on and off (order swapped each round). The rows:
 * per workload, the accounting off (baseline: CPU time of one pass, as ns/op) and on, with the median of the
 * per-round ratios against the goal.
 */
export async function runAccountingBench(rounds = 7, progress?: Progress, w: AccountingWorkload = {}): Promise<BenchResult[]> {
  const scenarios = w.scenarios ?? defaultReport().map((s) => s.name);
  const fuzzRuns = w.fuzzRuns ?? 12;
  const r = new Rounds();
  for (let n = 0; n < rounds; n++) {
    for (const [i, workload] of WORKLOADS.entries()) {
      const onFirst = (n + i) % 2 === 0;
      const job = (accounting: boolean): AccountingJob => ({ workload, accounting, scenarios, fuzzRuns });
      const first = await side(job(onFirst));
      const second = await side(job(!onFirst));
      if (first.digest !== second.digest)
        throw new Error(`bench accounting: ${workload} did different work with the accounting off (${first.digest} vs ${second.digest})`);
      r.add(`${workload} on`, (onFirst ? first : second).ms * 1e6);
      r.add(`${workload} off`, (onFirst ? second : first).ms * 1e6);
    }
    progress?.(n + 1, rounds);
  }
  const row = (workload: string, what: string): BenchResult[] => [
    r.result(`${workload} off`, { name: `${what}, accounting off (baseline: CPU time of one pass)` }),
    r.result(`${workload} on`, { name: `${what}, accounting on`, baseline: `${workload} off`, goal: ACCOUNTING_GOAL }),
  ];
  return [
    ...row('run', `grantvm run: ${scenarios.length} scenario${scenarios.length === 1 ? '' : 's'}`),
    ...row('fuzz', `fuzz: ${fuzzRuns} run${fuzzRuns === 1 ? '' : 's'} × 40 commands`),
  ];
}
