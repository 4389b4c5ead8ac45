// Benchmarks what the cost model's accounting costs the host: the built-in scenarios of `grantvm run` (trace kept
// in memory, hashed and scanned for the failure diagnosis, as the scenario worker does) run in this process with
// the accounting on and off (SystemConfig.accounting), scenario by scenario, the order swapped each time so that
// neither side always runs on the other's garbage. A round's ratio is on/off of its summed CPU time (user +
// system: less disturbed than wall time on a shared machine). Both sides must give the same trace hashes.
// Entry point: runAccountingBench (`grantvm bench accounting`).
import { defaultReport } from '../../sim/scenarios.ts';
import { runScenario } from '../../sim/scenario.ts';
import type { Scenario } from '../../sim/scenario.ts';
import { failureDiagnosis } from '../diagnosis.ts';
import { Rounds } from './report.ts';
import type { BenchResult, Progress } from './report.ts';

const OFF = 'off';
const ON = 'on';

/** The goal of issue 12: the accounting costs at most 10% host time on `grantvm run`. */
export const ACCOUNTING_GOAL = 1.1;

/** CPU milliseconds of this process so far. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** One scenario as the worker runs it for `grantvm run`: CPU milliseconds and the trace hash. */
async function timed(s: Scenario, accounting: boolean): Promise<{ ms: number; hash: string }> {
  const start = cpuMs();
  const r = await runScenario(s, { accounting });
  failureDiagnosis(r.system?.untimedTrace ?? []);
  return { ms: cpuMs() - start, hash: r.traceHash };
}

/** One round: every scenario on and off, in swapped order; CPU ms of each side. */
async function round(scenarios: readonly Scenario[], n: number): Promise<{ on: number; off: number }> {
  let on = 0;
  let off = 0;
  for (const [i, s] of scenarios.entries()) {
    const onFirst = (n + i) % 2 === 0;
    const first = await timed(s, onFirst);
    const second = await timed(s, !onFirst);
    if (first.hash !== second.hash)
      throw new Error(
        `${s.name}: the trace hash differs with the accounting off (${first.hash} vs ${second.hash})`,
      );
    on += onFirst ? first.ms : second.ms;
    off += onFirst ? second.ms : first.ms;
  }
  return { on, off };
}

/**
 * Runs one warm-up round and `rounds` measured ones; the result rows are the accounting off (baseline, CPU time of
 * a round as ns/op) and on, each with its min and max over the rounds, and the median of the per-round ratios.
 */
export async function runAccountingBench(
  rounds = 9,
  progress?: Progress,
  scenarios: readonly Scenario[] = defaultReport(),
): Promise<BenchResult[]> {
  await round(scenarios, 1);
  const r = new Rounds();
  for (let n = 0; n < rounds; n++) {
    const t = await round(scenarios, n);
    r.add(OFF, t.off * 1e6);
    r.add(ON, t.on * 1e6);
    progress?.(n + 1, rounds);
  }
  return [
    r.result(OFF, { name: `accounting off: ${scenarios.length} scenarios (baseline, CPU time per round)` }),
    r.result(ON, { name: 'accounting on (ratio: the median of the rounds)', baseline: OFF, goal: ACCOUNTING_GOAL }),
  ];
}
