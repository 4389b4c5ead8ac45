// `grantvm fuzz [--seed S] [--runs N | --minutes M] [--commands C]`: a model-based fuzzing campaign (src/sim/model):
// generated command sequences run on a real system and on the naive oracle, compared after every command, with
// every invariant checked after every kernel entry and leaks checked at the end of each run. A progress bar on a
// terminal, plain lines otherwise; at the end runs, commands, checks, and every violation or leak with its run
// seed, a replay command and the shrunk sequence. `--replay SEED` reruns one run and prints it command by command.
// Exit code 1 on any violation or leak. Entry points: fuzzCommand.
import { ACTOR_LABELS } from '../../sim/model/executor.ts';
import { formatCommand } from '../../sim/model/commands.ts';
import { replayRun, runCampaign, runConfig } from '../../sim/model/campaign.ts';
import type { CampaignFailure, CampaignSummary } from '../../sim/model/campaign.ts';
import type { SystemConfig } from '../../sim/config.ts';
import { InvalidArgumentError } from 'commander';
import { configFromOptions, UsageError } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color } from '../format.ts';
import { progressReporter } from '../progress.ts';

export interface FuzzOptions extends CommonOptions {
  runs?: number;
  minutes?: number;
  commands?: number;
  replay?: number;
  everyCommand?: boolean;
  shrink?: number;
}

/** "10", "0.5" → minutes (positive). */
export function parseMinutes(text: string): number {
  const m = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(m > 0))
    throw new InvalidArgumentError(`'${text}' is not a positive number of minutes`);
  return m;
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
  return f.join(' ');
}

function describeConfig(c: Partial<SystemConfig>): string {
  return `cow ${c.cowSafecopy === false ? 'off' : 'on'}${c.cowBreak === 'page' ? ', cow break by page' : ''}, ${c.grantIds ?? 'generational'} ids, ${c.schedule ?? 'priority'} schedule (seed ${c.seed ?? 1})`;
}

function printFailure(f: CampaignFailure, o: FuzzOptions, commands: number): void {
  console.log(color.red(`  ${f.kind} in run seed ${f.runSeed} (${describeConfig(f.config)}): ${f.message}`));
  console.log(`    replay:  grantvm fuzz --replay ${f.runSeed} ${replayFlags(o, commands)}`);
  console.log(`    shrunk to ${f.commands.length} command(s): ${JSON.stringify(f.commands)}`);
}

function printSummary(s: CampaignSummary, o: FuzzOptions, commands: number, seconds: number): void {
  const violations = s.failures.filter((f) => f.kind === 'violation');
  const leaks = s.failures.filter((f) => f.kind === 'leak');
  console.log(`runs:              ${s.runs}`);
  console.log(`commands executed: ${s.commands}`);
  console.log(`invariant checks:  ${s.checks}`);
  console.log(
    `violations:        ${violations.length === 0 ? color.green('0') : color.red(String(violations.length))}`,
  );
  console.log(
    `leaks:             ${leaks.length === 0 ? color.green('0') : color.red(String(leaks.length))}`,
  );
  console.log(
    color.dim(
      `time:              ${seconds.toFixed(1)} s (${(s.runs / Math.max(seconds, 1e-9)).toFixed(2)} runs/s)`,
    ),
  );
  for (const f of s.failures) printFailure(f, o, commands);
}

async function replay(seed: number, o: FuzzOptions, commands: number): Promise<void> {
  const config = runConfig(seed, overrides(o));
  console.log(
    `replay of run seed ${seed}: ${commands} commands, ${describeConfig(config)}, actors ${ACTOR_LABELS.join(', ')}`,
  );
  const { commands: cmds, run: r } = await replayRun(seed, commands, overrides(o), o.everyCommand !== true);
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

export async function fuzzCommand(o: FuzzOptions): Promise<void> {
  if (o.runs !== undefined && o.minutes !== undefined)
    throw new UsageError('give --runs or --minutes, not both');
  const commands = o.commands ?? DEFAULT_COMMANDS;
  if (commands < 1) throw new UsageError('--commands must be at least 1');
  if (o.replay !== undefined) {
    await replay(o.replay, o, commands);
    return;
  }
  const seed = o.seed ?? 1;
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const budgetSeconds = o.minutes === undefined ? null : o.minutes * 60;
  const runs = o.runs ?? DEFAULT_RUNS;
  console.log(
    `fuzz: seed ${seed}, ${budgetSeconds === null ? `${runs} runs` : `${o.minutes ?? 0} min`} of ${commands} commands, ` +
      `${ACTOR_LABELS.length} actors, checks after every ${o.everyCommand === true ? 'command' : 'kernel entry'}`,
  );
  const bar = progressReporter('fuzz');
  const summary = await runCampaign({
    seed,
    commandsPerRun: commands,
    config: overrides(o),
    everyStep: o.everyCommand !== true,
    ...(o.shrink !== undefined ? { shrinkBudget: o.shrink } : {}),
    more: (done) => (budgetSeconds === null ? done < runs : elapsed() < budgetSeconds),
    onRun: (s) => {
      if (budgetSeconds === null) bar.update(s.runs, runs);
      else bar.update(Math.min(Math.floor(elapsed()), budgetSeconds), budgetSeconds);
    },
  });
  bar.stop();
  printSummary(summary, o, commands, elapsed());
  if (summary.failures.length > 0) process.exitCode = 1;
}
