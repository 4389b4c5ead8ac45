// One side of `grantvm bench accounting` on a worker thread of its own (its own heap and garbage collector, as a
// `grantvm run` or `grantvm fuzz` process has): runs the workload once, cold, with the accounting on or off, and
// posts the CPU time the workload took and a digest of what it did (trace hashes, fuzz totals) so that the bench can
// check both sides did the same work. Entry point: the module itself (started by accounting.bench.ts).
import { parentPort, workerData } from 'node:worker_threads';
import { findScenario } from '../../sim/scenarios.ts';
import { runScenario } from '../../sim/scenario.ts';
import { runCampaign } from '../../sim/model/campaign.ts';
import { failureDiagnosis } from '../diagnosis.ts';
import { hostNow, useClock } from './report.ts';
import type { AccountingJob, AccountingSide } from './accounting.bench.ts';

/** `grantvm run`'s work: every scenario, its trace kept in memory, hashed and scanned for the failure diagnosis. */
async function scenarios(job: AccountingJob): Promise<string> {
  const hashes: string[] = [];
  for (const name of job.scenarios) {
    const s = findScenario(name);
    if (s === undefined) throw new Error(`bench accounting: no scenario '${name}'`);
    const r = await runScenario(s, { accounting: job.accounting });
    failureDiagnosis(r.system?.untimedTrace ?? []);
    hashes.push(r.traceHash);
  }
  return hashes.join(' ');
}

/** `grantvm fuzz`'s work: `fuzzRuns` runs of 40 commands from seed 1, checked after every kernel entry. */
async function fuzz(job: AccountingJob): Promise<string> {
  const s = await runCampaign({ seed: 1, commandsPerRun: 40, config: { accounting: job.accounting }, more: (run) => run < job.fuzzRuns });
  return `${s.runs} runs, ${s.commands} commands, ${s.checks} checks, ${s.failures.length} failures`;
}

const port = parentPort;
if (port === null) throw new Error('accountingworker runs in a worker thread');
const job = (workerData as { data: AccountingJob }).data;
useClock('cpu');
const start = hostNow();
const digest = job.workload === 'run' ? await scenarios(job) : await fuzz(job);
const side: AccountingSide = { type: 'done', ms: hostNow() - start, digest };
port.postMessage(side);
