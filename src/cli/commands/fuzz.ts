// `grantvm fuzz [--seed S] [--runs N | --minutes M] [--commands C] [--full-every K] [--jobs J] [--shard I/N]
// [--json FILE]`: a model-based fuzzing campaign (src/sim/model): generated command sequences run on a real system
// and on the naive oracle, compared after every command, with every invariant checked after every kernel entry (VM's
// in full every K checks and at the end of a run, incrementally in between) and leaks checked at the end of each run. `--jobs` runs shards of the campaign on worker threads (the same runs and totals as one job);
// `--shard` runs one deterministic slice for a batch runner and `--json` keeps its report; `grantvm fuzz merge`
// adds reports up. A progress bar on a terminal, plain lines otherwise; at the end runs, commands, checks by kind, and every
// violation or leak with its run seed, a replay command and the shrunk sequence. `--replay SEED` reruns one run
// and prints it command by command. Exit code 1 on any violation or leak. Entry points: fuzzCommand,
// fuzzMergeCommand, runFuzzJob, parseShard.
import { ACTOR_LABELS, DEFAULT_FULL_EVERY } from '../../sim/model/executor.ts';
import { formatCommand } from '../../sim/model/commands.ts';
import { mergeSummaries, replayRun, runCampaign, runConfig } from '../../sim/model/campaign.ts';
import type { CampaignFailure, CampaignSummary, Shard } from '../../sim/model/campaign.ts';
import type { SystemConfig } from '../../sim/config.ts';
import { readFileSync, writeFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { checkWritable, configFromOptions, UsageError } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color } from '../format.ts';
import { progressReporter } from '../progress.ts';
import { defaultJobs, runWorkers, siblingModule } from '../workers.ts';
import type { CommandJob } from './jobworker.ts';
import { coverageRows, unreached } from '../../sim/model/coverage.ts';

export interface FuzzOptions extends CommonOptions {
  runs?: number;
  minutes?: number;
  commands?: number;
  replay?: number;
  everyCommand?: boolean;
  fullEvery?: number;
  shrink?: number;
  jobs?: number;
  shard?: Shard;
  json?: string;
  requireCoverage?: boolean;
}

/** "10", "0.5" → minutes (positive). */
export function parseMinutes(text: string): number {
  const m = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(m > 0))
    throw new InvalidArgumentError(`'${text}' is not a positive number of minutes`);
  return m;
}

/** "I/N" → shard I of N (0 ≤ I < N). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (m === null || count < 1 || index >= count)
    throw new InvalidArgumentError(`'${text}' is not a shard I/N with 0 ≤ I < N (e.g. 0/4)`);
  return { index, count };
}

const DEFAULT_RUNS = 100;
const DEFAULT_COMMANDS = 40;

/** The options that reach every run's config (the seed is the campaign's, not a run's). */
function overrides(o: FuzzOptions): Partial<SystemConfig> {
  const c = configFromOptions(o);
  delete c.seed;
  return c;
}

/** The flags a replay needs besides the seed: the forced modes and the command count. */
function replayFlags(o: FuzzOptions, commands: number): string {
  const f = [`--commands ${commands}`];
  if (o.cow === false) f.push('--no-cow');
  if (o.cowBreak !== undefined) f.push(`--cow-break ${o.cowBreak}`);
  if (o.grantIds !== undefined) f.push(`--grant-ids ${o.grantIds}`);
  if (o.schedule !== undefined) f.push(`--schedule ${o.schedule}`);
  if (o.memory !== undefined) f.push(`--memory ${o.memory}`);
  if (o.sanity !== undefined) f.push(`--sanity ${o.sanity}`);
  if (o.fullEvery !== undefined) f.push(`--full-every ${o.fullEvery}`);
  return f.join(' ');
}

function describeConfig(c: Partial<SystemConfig>): string {
  return `cow ${c.cowSafecopy === false ? 'off' : 'on'}${c.cowBreak === 'page' ? ', cow break by page' : ''}, ${c.grantIds ?? 'generational'} ids, ${c.schedule ?? 'priority'} schedule (seed ${c.seed ?? 1})`;
}

function printFailure(f: CampaignFailure, flags: string): void {
  console.log(color.red(`  ${f.kind} in run seed ${f.runSeed} (${describeConfig(f.config)}): ${f.message}`));
  console.log(`    replay:  grantvm fuzz --replay ${f.runSeed} ${flags}`);
  console.log(`    shrunk to ${f.commands.length} command(s): ${JSON.stringify(f.commands)}`);
}

function printSummary(s: CampaignSummary, report: FuzzReport): void {
  const violations = s.failures.filter((f) => f.kind === 'violation');
  const leaks = s.failures.filter((f) => f.kind === 'leak');
  const perSecond = (n: number): string =>
    (n / Math.max(report.seconds, 1e-9)).toFixed(n < 10 * report.seconds ? 2 : 0);
  console.log(`runs:              ${s.runs}`);
  console.log(`commands executed: ${s.commands}`);
  const k = s.checksByKind;
  console.log(`invariant checks:  ${s.checks} (VM ${k.incremental} incremental, ${k.full} full; grants ${k.grant}; DS ${k.ds})`);
  console.log(
    `violations:        ${violations.length === 0 ? color.green('0') : color.red(String(violations.length))}`,
  );
  console.log(
    `leaks:             ${leaks.length === 0 ? color.green('0') : color.red(String(leaks.length))}`,
  );
  console.log(
    color.dim(
      `time:              ${report.seconds.toFixed(1)} s, ${report.jobs} job${report.jobs === 1 ? '' : 's'} ` +
        `(${perSecond(s.runs)} runs/s, ${perSecond(s.commands)} commands/s)`,
    ),
  );
  printCoverage(s.coverage);
  for (const f of s.failures) printFailure(f, report.replayFlags);
}

/** Per command kind, how often it met each outcome; an outcome of a long campaign this one missed in red. */
function printCoverage(coverage: Readonly<Record<string, number>>): void {
  const rows = coverageRows(coverage);
  const expected = rows.flatMap((r) => r.outcomes.filter((o) => o.expected));
  const missed = expected.filter((o) => o.count === 0).length;
  const reached = `${expected.length - missed} of ${expected.length} outcomes reached`;
  console.log(`coverage:          ${rows.length} command kinds, ${missed === 0 ? color.green(reached) : color.red(reached)}`);
  for (const r of rows) {
    const cells = r.outcomes.map((o) => {
      const cell = `${o.outcome} ${o.count}`;
      return o.count === 0 ? color.red(cell) : o.expected ? cell : color.yellow(`+${cell}`);
    });
    console.log(color.dim(`  ${r.kind.padEnd(12)} `) + cells.join(' · '));
  }
}

/** With --require-coverage: exit status 1 and one line when an outcome of REACHABLE was not reached. */
function requireCoverage(coverage: Readonly<Record<string, number>>): void {
  const missed = unreached(coverage);
  if (missed.length === 0) return;
  console.log(color.red(`coverage: not reached: ${missed.join(', ')}`));
  process.exitCode = 1;
}

async function replay(seed: number, o: FuzzOptions, commands: number): Promise<void> {
  const config = runConfig(seed, overrides(o));
  console.log(
    `replay of run seed ${seed}: ${commands} commands, ${describeConfig(config)}, actors ${ACTOR_LABELS.join(', ')}`,
  );
  const { commands: cmds, run: r } = await replayRun(seed, commands, overrides(o), o.everyCommand !== true, o.fullEvery);
  r.observations.forEach((obs, i) => {
    const c = cmds[i];
    if (c !== undefined)
      console.log(`  ${String(i).padStart(3)} ${formatCommand(c)} → ${obs.split(' ')[0] ?? ''}`);
  });
  if (r.violation !== null)
    console.log(color.red(`  violation at command ${r.violation.index}: ${r.violation.message}`));
  for (const l of r.leaks) console.log(color.red(`  leak: ${l}`));
  console.log(
    `${r.commands} commands, ${r.checks} invariant checks, ${r.violation === null && r.leaks.length === 0 ? color.green('no failure') : color.red('FAILED')}`,
  );
  if (r.violation !== null || r.leaks.length > 0) process.exitCode = 1;
}

/** What one job of a campaign runs: a shard of the runs under a budget (a worker thread gets it as plain data). */
export interface FuzzJob {
  seed: number;
  commandsPerRun: number;
  config: Partial<SystemConfig>;
  everyStep: boolean;
  /** VM's full check every this many checks (default DEFAULT_FULL_EVERY). */
  fullEvery?: number | undefined;
  shrinkBudget?: number;
  shard: Shard;
  /** Runs of the whole campaign (this shard runs its share), or null with a time budget. */
  runs: number | null;
  /** The time budget in seconds, when `runs` is null. */
  seconds: number;
}

/** Runs one job; `onRun` hears of every run it has done. */
export function runFuzzJob(job: FuzzJob, onRun: (runsDone: number) => void): Promise<CampaignSummary> {
  const t0 = performance.now();
  return runCampaign({
    seed: job.seed,
    commandsPerRun: job.commandsPerRun,
    config: job.config,
    everyStep: job.everyStep,
    fullEvery: job.fullEvery,
    shard: job.shard,
    ...(job.shrinkBudget !== undefined ? { shrinkBudget: job.shrinkBudget } : {}),
    more: (run) => (job.runs !== null ? run < job.runs : (performance.now() - t0) / 1000 < job.seconds),
    onRun: (s) => {
      onRun(s.runs);
    },
  });
}

/** A job's messages from its worker thread. */
export type FuzzJobMessage = { type: 'run'; runs: number } | { type: 'done'; summary: CampaignSummary };

/** Runs `jobs` on worker threads, one each; `onRun` hears of the runs each has done. */
async function runJobsInWorkers(
  jobs: readonly FuzzJob[],
  onRun: (job: number, runsDone: number) => void,
): Promise<CampaignSummary[]> {
  const last = await runWorkers<FuzzJobMessage>(
    siblingModule('jobworker', import.meta.url),
    jobs.map((fuzz): CommandJob => ({ fuzz })),
    (i, m) => {
      if (m.type === 'run') onRun(i, m.runs);
    },
    true,
  );
  return last.flatMap((m) => (m.type === 'done' ? [m.summary] : []));
}

/** The report `--json` writes and `fuzz merge` reads: the campaign's identity, the shard, the totals and failures. */
export interface FuzzReport extends CampaignSummary {
  format: 'grantvm-fuzz-report';
  seed: number;
  commandsPerRun: number;
  everyCommand: boolean;
  /** The settings forced on every run (the options besides the seed). */
  config: Partial<SystemConfig>;
  /** Runs of the whole campaign, or null for a time budget. */
  budgetRuns: number | null;
  shard: Shard;
  /** The flags a replay needs besides the run seed. */
  replayFlags: string;
  jobs: number;
  /** Wall-clock seconds (of the longest shard, for a merge). */
  seconds: number;
}

function writeReport(file: string, report: FuzzReport): void {
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(color.dim(`report written to ${file}`));
}

/** The job shards of `--jobs J` within `--shard I/N`: job j takes shard I + N·j of N·J. */
function jobShards(shard: Shard, jobs: number): Shard[] {
  return Array.from({ length: jobs }, (_, j) => ({
    index: shard.index + shard.count * j,
    count: shard.count * jobs,
  }));
}

export async function fuzzCommand(o: FuzzOptions): Promise<void> {
  if (o.runs !== undefined && o.minutes !== undefined)
    throw new UsageError('give --runs or --minutes, not both');
  const commands = o.commands ?? DEFAULT_COMMANDS;
  if (commands < 1) throw new UsageError('--commands must be at least 1');
  if (o.runs === 0) throw new UsageError('--runs must be at least 1');
  if (o.json !== undefined) checkWritable(o.json, '--json');
  if (o.replay !== undefined) {
    await replay(o.replay, o, commands);
    return;
  }
  const seed = o.seed ?? 1;
  const shard = o.shard ?? { index: 0, count: 1 };
  const budgetSeconds = o.minutes === undefined ? null : o.minutes * 60;
  const runs = o.runs ?? DEFAULT_RUNS;
  const shardRuns = budgetSeconds === null ? Math.ceil(Math.max(0, runs - shard.index) / shard.count) : 0;
  // More jobs than runs would leave workers idle.
  const jobs = Math.max(
    1,
    Math.min(o.jobs ?? defaultJobs(), budgetSeconds === null ? shardRuns : Number.POSITIVE_INFINITY),
  );
  console.log(
    `fuzz: seed ${seed}, ${budgetSeconds === null ? `${runs} runs` : `${o.minutes ?? 0} min`} of ${commands} commands, ` +
      `${ACTOR_LABELS.length} actors, checks after every ${o.everyCommand === true ? 'command' : 'kernel entry'}` +
      ` (VM's in full every ${o.fullEvery ?? DEFAULT_FULL_EVERY})` +
      `${shard.count > 1 ? `, shard ${shard.index}/${shard.count}` : ''}, ${jobs} job${jobs === 1 ? '' : 's'}`,
  );
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const base = {
    seed,
    commandsPerRun: commands,
    config: overrides(o),
    everyStep: o.everyCommand !== true,
    fullEvery: o.fullEvery,
    ...(o.shrink !== undefined ? { shrinkBudget: o.shrink } : {}),
    runs: budgetSeconds === null ? runs : null,
    seconds: budgetSeconds ?? 0,
  };
  const bar = progressReporter('fuzz');
  const done = new Array<number>(jobs).fill(0);
  const progress = (job: number, runsDone: number): void => {
    done[job] = runsDone;
    const total = done.reduce((a, b) => a + b, 0);
    if (budgetSeconds === null) bar.update(total, shardRuns);
    else bar.update(Math.min(Math.floor(elapsed()), budgetSeconds), budgetSeconds);
  };
  let summary: CampaignSummary;
  try {
    const shards = jobShards(shard, jobs);
    summary =
      jobs === 1
        ? await runFuzzJob({ ...base, shard }, (n) => {
            progress(0, n);
          })
        : mergeSummaries(
            await runJobsInWorkers(
              shards.map((s) => ({ ...base, shard: s })),
              progress,
            ),
          );
  } finally {
    bar.stop();
  }
  const report: FuzzReport = {
    format: 'grantvm-fuzz-report',
    seed,
    commandsPerRun: commands,
    everyCommand: o.everyCommand === true,
    config: base.config,
    budgetRuns: base.runs,
    shard,
    replayFlags: replayFlags(o, commands),
    jobs,
    seconds: elapsed(),
    ...summary,
  };
  printSummary(summary, report);
  if (o.json !== undefined) writeReport(o.json, report);
  if (summary.failures.length > 0) process.exitCode = 1;
  if (o.requireCoverage === true) requireCoverage(summary.coverage);
}

function readReport(file: string): FuzzReport {
  let r: unknown;
  try {
    r = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${e instanceof Error ? (e.message.split('\n')[0] ?? '') : String(e)}`);
  }
  if (typeof r !== 'object' || r === null || (r as { format?: unknown }).format !== 'grantvm-fuzz-report')
    throw new UsageError(`${file} is not a report of grantvm fuzz --json`);
  return r as FuzzReport;
}

/** `grantvm fuzz merge A.json B.json …`: the reports of one campaign's shards (or jobs) as one report. */
export function fuzzMergeCommand(files: readonly string[], o: { json?: string; requireCoverage?: boolean }): void {
  if (o.json !== undefined) checkWritable(o.json, '--json');
  const reports = files.map(readReport);
  const first = reports[0];
  if (first === undefined) throw new UsageError('name at least one report');
  const identity = (r: FuzzReport): string =>
    JSON.stringify([r.seed, r.commandsPerRun, r.everyCommand, r.config, r.budgetRuns, r.replayFlags]);
  for (const [i, r] of reports.entries()) {
    if (identity(r) !== identity(first))
      throw new UsageError(
        `${files[i] ?? ''} is of another campaign (seed, commands, budget or settings differ from ${files[0] ?? ''})`,
      );
    const twin = reports.findIndex((q) => q.shard.count === r.shard.count && q.shard.index === r.shard.index);
    if (twin !== i)
      throw new UsageError(
        `${files[i] ?? ''} and ${files[twin] ?? ''} are the same shard ${r.shard.index}/${r.shard.count}`,
      );
  }
  const summary = mergeSummaries(reports);
  const counts = new Set(reports.map((r) => r.shard.count));
  const whole = counts.size === 1 && reports.length === first.shard.count;
  const report: FuzzReport = {
    ...first,
    ...summary,
    shard: whole ? { index: 0, count: 1 } : first.shard,
    jobs: reports.reduce((a, r) => a + r.jobs, 0),
    seconds: Math.max(...reports.map((r) => r.seconds)),
  };
  console.log(
    `fuzz merge: ${reports.length} report${reports.length === 1 ? '' : 's'} of seed ${first.seed}, ` +
      `${first.budgetRuns === null ? 'a time budget' : `${first.budgetRuns} runs`} of ${first.commandsPerRun} commands` +
      (whole ? ', every shard' : `, ${color.yellow('not every shard of the campaign')}`),
  );
  printSummary(summary, report);
  if (o.json !== undefined) writeReport(o.json, report);
  if (summary.failures.length > 0) process.exitCode = 1;
  if (o.requireCoverage === true) requireCoverage(summary.coverage);
}
