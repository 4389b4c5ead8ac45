// `grantvm faults [--seed N] [--targets a,b] [--points N | --every-step] [--signal N] [--jobs N] [--json FILE]`: a
// fault-injection campaign (src/sim/faults.ts), its injections shared among worker threads, with a progress bar, then one table per target and kill point in the fault-injection
// format (injected / activated / detected / recovered / hung / state lost, plus failed post-run checks), the
// totals, and every injection that failed a check. Exit code 1 when a check failed (sanity, leak, dead-endpoint
// grant, subscriber) or a target other than DS lost state or hung. Entry points: faultsCommand, faultsReportText.
import { writeFileSync } from 'node:fs';
import { FAULT_TARGETS, faultReport, injectPlanned, isDefect, planFaultCampaign } from '../../sim/faults.ts';
import type { FaultPlan, FaultReport, FaultTarget, Injection } from '../../sim/faults.ts';
import { SIGKILL } from '../../include/errno.ts';
import { UsageError, checkWritable, configFromOptions } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color, table } from '../format.ts';
import { progressReporter } from '../progress.ts';
import { defaultJobs, runWorkers, siblingModule } from '../workers.ts';
import type { CommandJob } from './jobworker.ts';

export interface FaultsOptions extends CommonOptions {
  targets?: string;
  points?: number;
  everyStep?: boolean;
  signal?: number;
  jobs?: number;
  json?: string;
}

/** What one job of `faults --jobs N` makes: the injections of the plan at these indices. */
export interface FaultsJob {
  plan: FaultPlan;
  indices: number[];
}

/** A job's messages from its worker thread: one per injection made, then 'done'. */
export type FaultsJobMessage = { type: 'injection'; index: number; injection: Injection } | { type: 'done' };

/** Makes a job's injections in order, telling `made` of each. */
export async function runFaultsJob(
  job: FaultsJob,
  made: (index: number, injection: Injection) => void,
): Promise<void> {
  for (const index of job.indices) made(index, await injectPlanned(job.plan, index));
}

/** Makes every injection of the plan, shared among `jobs` worker threads (in this thread for one job). */
async function makeInjections(
  plan: FaultPlan,
  jobs: number,
  progress: (done: number, total: number) => void,
): Promise<Injection[]> {
  const total = plan.injections.length;
  const out = new Array<Injection | undefined>(total);
  let done = 0;
  const made = (index: number, injection: Injection): void => {
    out[index] = injection;
    progress(++done, total);
  };
  const slices = Array.from({ length: jobs }, (_, j) => ({
    plan,
    indices: [...out.keys()].filter((i) => i % jobs === j),
  }));
  if (jobs === 1) await runFaultsJob({ plan, indices: [...out.keys()] }, made);
  else
    await runWorkers<FaultsJobMessage>(
      siblingModule('jobworker', import.meta.url),
      slices.map((faults): CommandJob => ({ faults })),
      (_, m) => {
        if (m.type === 'injection') made(m.index, m.injection);
      },
      true,
    );
  return out.map(
    (x, i) =>
      x ??
      (() => {
        throw new Error(`faults: injection ${i} was not made`);
      })(),
  );
}

function parseTargets(text: string | undefined): FaultTarget[] {
  if (text === undefined) return [...FAULT_TARGETS];
  const names = text
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t !== '');
  const out: FaultTarget[] = [];
  for (const n of names) {
    const t = FAULT_TARGETS.find((x) => x === n);
    if (t === undefined) throw new UsageError(`unknown target '${n}' (targets: ${FAULT_TARGETS.join(', ')})`);
    if (!out.includes(t)) out.push(t);
  }
  if (out.length === 0) throw new UsageError('--targets names no target');
  return out;
}

/** The report as text: the table, then the injections that failed a check or lost state where that is a defect. */
export function faultsReportText(r: FaultReport): string {
  const rows = r.rows.map((x) => [
    x.target,
    x.point,
    x.injected,
    x.activated,
    x.detected,
    x.recovered,
    x.hung,
    x.stateLost,
    x.checksFailed,
  ]);
  const lines = [
    `seed ${r.seed}, ${r.points === 'every step' ? 'a kill at every active step' : `${r.points} kill points`} per target, signal ${r.signal}; workload steps ${r.reference.start}..${r.reference.end}`,
    '',
    table(
      [
        'target',
        'kill point',
        'injected',
        'activated',
        'detected',
        'recovered',
        'hung',
        'state lost',
        'checks failed',
      ],
      rows,
    ),
  ];
  const bad = r.injections.filter(isDefect);
  if (bad.length > 0) lines.push('', color.red(`${bad.length} injections need a look:`));
  for (const i of bad)
    lines.push(
      `  ${i.target} at step ${i.step} (${i.point}): ${[...(i.hung ? ['hung'] : []), ...i.lost, ...i.problems].join('; ')}`,
    );
  return lines.join('\n');
}

export async function faultsCommand(o: FaultsOptions): Promise<void> {
  const targets = parseTargets(o.targets);
  if (o.everyStep === true && o.points !== undefined)
    throw new UsageError('give --points or --every-step, not both');
  const points = o.points ?? 20;
  if (points < 1) throw new UsageError('--points must be at least 1');
  const signal = o.signal ?? SIGKILL;
  if (signal < 1 || signal > 31) throw new UsageError('--signal must be a signal number in [1, 31]');
  if (o.json !== undefined) checkWritable(o.json, '--json');
  const config = configFromOptions(o);
  if (o.json !== undefined) writeFileSync(o.json, ''); // an unwritable path fails now, before the campaign
  const bar = progressReporter('faults');
  const t0 = performance.now();
  let report: FaultReport;
  let jobs: number;
  try {
    const plan = await planFaultCampaign({
      seed: config.seed ?? 1,
      targets,
      points,
      everyStep: o.everyStep === true,
      signal,
      config,
    });
    jobs = Math.max(1, Math.min(o.jobs ?? defaultJobs(), plan.injections.length));
    report = faultReport(plan, await makeInjections(plan, jobs, bar.update));
  } finally {
    bar.stop();
  }
  console.log(faultsReportText(report));
  if (o.json !== undefined) {
    writeFileSync(o.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(color.dim(`report written to ${o.json}`));
  }
  const defects = report.injections.filter(isDefect);
  const panics = report.injections.filter((i) => i.detected === 'panic').length;
  console.log(
    `${report.injections.length} injections; ` +
      (panics > 0
        ? `${panics} DS kills detected as a system panic (DS cannot be restarted, so its state is lost by design); `
        : '') +
      (defects.length === 0
        ? color.green('no leaks, no hangs, no lost acknowledged state')
        : color.red(`${defects.length} defective outcomes`)),
  );
  console.log(
    color.dim(`time: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${jobs} job${jobs === 1 ? '' : 's'}`),
  );
  if (defects.length > 0) process.exitCode = 1;
}
