// `grantvm faults [--seed N] [--targets a,b] [--points N] [--signal N] [--json FILE]`: a fault-injection campaign
// (src/sim/faults.ts) with a progress bar, then one table per target and kill point in the fault-injection
// format (injected / activated / detected / recovered / hung / state lost, plus failed post-run checks), the
// totals, and every injection that failed a check. Exit code 1 when a check failed (sanity, leak, dead-endpoint
// grant, subscriber) or a target other than DS lost state or hung. Entry points: faultsCommand, faultsReportText.
import { writeFileSync } from 'node:fs';
import { FAULT_TARGETS, isDefect, runFaultCampaign } from '../../sim/faults.ts';
import type { FaultReport, FaultTarget } from '../../sim/faults.ts';
import { SIGKILL } from '../../include/errno.ts';
import { UsageError, checkWritable, configFromOptions } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color, table } from '../format.ts';
import { progressReporter } from '../progress.ts';

export interface FaultsOptions extends CommonOptions {
  targets?: string;
  points?: number;
  signal?: number;
  json?: string;
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
    `seed ${r.seed}, ${r.points} kill points per target, signal ${r.signal}; workload steps ${r.reference.start}..${r.reference.end}`,
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
  const points = o.points ?? 20;
  if (points < 1) throw new UsageError('--points must be at least 1');
  const signal = o.signal ?? SIGKILL;
  if (signal < 1 || signal > 31) throw new UsageError('--signal must be a signal number in [1, 31]');
  if (o.json !== undefined) checkWritable(o.json, '--json');
  const config = configFromOptions(o);
  const bar = progressReporter('faults');
  let report: FaultReport;
  try {
    report = await runFaultCampaign({
      seed: config.seed ?? 1,
      targets,
      points,
      signal,
      config,
      progress: bar.update,
    });
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
        ? `${panics} DS kills detected as a system panic (DS cannot be restarted, spec/ds.md §2); `
        : '') +
      (defects.length === 0
        ? color.green('no leaks, no hangs, no lost acknowledged state')
        : color.red(`${defects.length} defective outcomes`)),
  );
  if (defects.length > 0) process.exitCode = 1;
}
