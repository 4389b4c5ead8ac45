// `grantvm run [scenario|FILE...]`: boots a fresh system per scenario, runs it, prints each scenario's checks
// and a summary; exit code 1 if any check failed, a scenario stopped, or a scenario made no check. `--list`
// names the built-in scenarios. An argument that is an existing .ts/.mts/.js/.mjs file is a user-written
// scenario module (scenariofile.ts); `--list FILE` lists its scenarios. Every scenario runs in the worker
// (runner.ts) under the step and wall-clock limits. A failed scenario's report gives the command that replays
// it and, after a panic or a kill, the last calls that failed (from the trace); the report also names the
// programs that threw and those left waiting forever.
import { writeFileSync } from 'node:fs';
import { defaultReport } from '../../sim/scenarios.ts';
import { resolveConfig } from '../../sim/config.ts';
import type { SystemConfig } from '../../sim/config.ts';
import { checkWritable, configFromOptions, limitsFromOptions, UsageError } from '../options.ts';
import type { CommonOptions, LimitOptions } from '../options.ts';
import { withRunner } from '../runner.ts';
import type { ScenarioInfo, ScenarioReport } from '../runner.ts';
import { color, table } from '../format.ts';
import { parseSafeperfLines, safeperfSvg, sweepOf } from './bench.ts';

interface RunOptions extends CommonOptions, LimitOptions {
  svg?: string;
  list?: boolean;
  trace?: string;
  verbose?: boolean;
}

/** The config overrides the options give, checked: a value the system cannot boot with is a UsageError. */
export function checkedOverrides(o: CommonOptions): Partial<SystemConfig> {
  const overrides = configFromOptions(o);
  const { problems } = resolveConfig(overrides);
  if (problems.length > 0) throw new UsageError(problems.join('; '));
  return overrides;
}

/** A scenario passed: it made at least one check, every check passed, and nothing stopped it. */
export const reportPassed = (r: ScenarioReport): boolean => r.error === null && r.checks.length > 0 && r.checks.every((c) => c.ok);

export async function runCommand(names: string[], o: RunOptions): Promise<void> {
  if (o.trace !== undefined) checkWritable(o.trace, '--trace');
  if (o.svg !== undefined) checkWritable(o.svg, '--svg');
  const overrides = checkedOverrides(o);
  await withRunner(limitsFromOptions(o), async (runner) => {
    const infos: ScenarioInfo[] = names.length === 0 ? defaultReport().map((s) => ({ arg: s.name, index: 0, name: s.name, title: s.title, seed: s.config?.seed ?? 1 })) : await runner.list(names);
    if (o.list === true) {
      console.log(table(['scenario', 'what it does'], infos.map((s) => [s.name, s.title])));
      return;
    }
    if (o.svg !== undefined && !infos.some((s) => s.name === 'safeperf')) throw new UsageError('--svg draws the safeperf curves: name safeperf among the scenarios');
    const results: ScenarioReport[] = [];
    const traceLines: string[] = [];
    console.log(color.bold('grantvm') + color.dim(' — MINIX 3 grants, safecopy, safemap, DS and VM, 2009-2010'));
    for (const info of infos) {
      const replay = replayCommand(info.arg, overrides.seed ?? info.seed, o);
      // No host clock: timed tests (safecopy, safeperf) report the model's simulated time under the profile.
      const r = await runner.run({ label: info.name, replay, scenario: info.arg, index: info.index, overrides, trace: o.trace !== undefined });
      results.push(r);
      printResult(r, o.verbose === true);
      if (!reportPassed(r)) printFailure(r, replay);
      // Each scenario's steps start again at 0: a marker line says where the next one begins.
      if (o.trace !== undefined) traceLines.push(`${JSON.stringify({ kind: 'scenario', step: 0, name: r.name, title: r.title, seed: r.seed })}\n`, r.trace ?? '');
    }
    if (o.trace !== undefined) {
      writeFileSync(o.trace, traceLines.join(''));
      console.log(color.dim(`trace written to ${o.trace}`));
    }
    if (o.svg !== undefined) writeSimulatedSvg(o.svg, results);
    printSummary(results);
  });
}

/** Failures of one scenario: failed checks, a stop, and "no check at all" (a scenario must check something). */
function failures(r: ScenarioReport): number {
  return r.checks.filter((c) => !c.ok).length + (r.error !== null || r.checks.length === 0 ? 1 : 0);
}

function printSummary(results: readonly ScenarioReport[]): void {
  const passed = results.reduce((n, r) => n + r.checks.filter((c) => c.ok).length, 0);
  const failed = results.reduce((n, r) => n + failures(r), 0);
  console.log('');
  console.log(table(['scenario', 'checks', 'failed', 'steps', 'trace hash'], results.map((r) => [r.name, r.checks.length, failures(r), r.steps, r.traceHash])));
  const line = `${passed} passed, ${failed} failed`;
  console.log(failed === 0 ? color.green(line) : color.red(line));
  if (failed > 0) process.exitCode = 1;
}

/**
 * The command line that replays one scenario: the command (default run), its name or file (none: ''), the seed,
 * and the options that change the run.
 */
export function replayCommand(arg: string, seed: number, o: RunOptions, command = 'run'): string {
  const parts = ['grantvm', command];
  if (arg !== '') parts.push(/^[\w./@:+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  parts.push('--seed', String(seed));
  if (o.memory !== undefined) parts.push('--memory', String(o.memory));
  if (o.sanity !== undefined) parts.push('--sanity', o.sanity);
  if (o.cow === false) parts.push('--no-cow');
  if (o.cowBreak !== undefined) parts.push('--cow-break', o.cowBreak);
  if (o.grantIds !== undefined) parts.push('--grant-ids', o.grantIds);
  if (o.schedule !== undefined) parts.push('--schedule', o.schedule);
  if (o.maxSteps !== undefined) parts.push('--max-steps', String(o.maxSteps));
  if (o.timeout !== undefined) parts.push('--timeout', String(o.timeout));
  if (o.profile !== undefined) parts.push('--profile', o.profile);
  return parts.join(' ');
}

function printFailure(r: ScenarioReport, replay: string): void {
  console.log(`  ${color.red(`failed with seed ${r.seed}`)} — replay it with: ${color.bold(replay)}`);
  for (const l of r.diagnosis) console.log(`  ${l}`);
}

function printResult(r: ScenarioReport, verbose: boolean): void {
  const mark = reportPassed(r) ? color.green('✓') : color.red('✗');
  console.log(`\n${mark} ${color.bold(r.name)} — ${r.title}`);
  for (const l of r.lines) {
    if (l.startsWith('FAIL')) console.log(`  ${color.red(l)}`);
    else if (verbose || !l.startsWith('PASS')) console.log(`  ${l.startsWith('PASS') ? color.green(l) : l}`);
  }
  if (!verbose) {
    const passed = r.checks.filter((c) => c.ok).length;
    console.log(color.dim(`  ${passed}/${r.checks.length} checks passed (-v to list them)`));
  }
  if (r.error !== null) console.log(`  ${color.red(`stopped: ${r.error}`)}`);
  if (r.error === null && r.checks.length === 0) console.log(`  ${color.red('no checks: a scenario must make at least one (out.check), so it counts as failed')}`);
  for (const c of r.crashes) console.log(`  ${color.red(c)}`);
  for (const b of r.blocked) console.log(`  ${color.yellow(`blocked forever (the system went idle): ${b}`)}`);
}

/** The safeperf curves of this run (simulated µs per page under the profile) as an SVG chart. */
function writeSimulatedSvg(file: string, results: readonly ScenarioReport[]): void {
  const r = results.find((x) => x.name === 'safeperf');
  if (r === undefined) return;
  const table = parseSafeperfLines(r.lines);
  const pages = [...new Set([...table.keys()].map((k) => Number(k.split('|')[2])))].sort((a, b) => a - b);
  writeFileSync(file, safeperfSvg(sweepOf(table, pages), `simulated, profile ${r.profile}`, 'simulated'));
  console.log(color.dim(`safeperf chart written to ${file}`));
}
