// `grantvm run [scenario|FILE...]`: boots a fresh system per scenario, runs it, prints each scenario's checks
// and a summary; exit code 1 if any check failed. `--list` names the built-in scenarios. An argument that is an
// existing .ts/.js/.mjs file is a user-written scenario module (scenariofile.ts); `--list FILE` lists its scenarios. A failed scenario's report
// gives the command that replays it and, after a panic or a kill, the last calls that failed (from the trace).
import { writeFileSync } from 'node:fs';
import { SIGABRT, SIGKILL, SIGSEGV, SIGTERM, errnoName } from '../../include/errno.ts';
import type { TraceEvent } from '../../include/trace.ts';
import { builtinScenarios, defaultReport } from '../../sim/scenarios.ts';
import { runScenario, scenarioPassed } from '../../sim/scenario.ts';
import type { Scenario, ScenarioResult } from '../../sim/scenario.ts';
import { scenariosNamed } from '../scenariofile.ts';
import { toJsonLines } from '../../sim/trace.ts';
import { resolveConfig } from '../../sim/config.ts';
import { configFromOptions, UsageError } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color, table } from '../format.ts';
import { parseSafeperfLines, safeperfSvg, sweepOf } from './bench.ts';

interface RunOptions extends CommonOptions {
  svg?: string;
  list?: boolean;
  trace?: string;
  verbose?: boolean;
}

export async function runCommand(names: string[], o: RunOptions): Promise<void> {
  if (o.list === true) {
    // `--list FILE...` lists the scenarios of those files (or built-in names); `--list` alone the built-in ones.
    const listed = names.length === 0 ? [...builtinScenarios] : (await Promise.all(names.map(scenariosNamed))).flat();
    console.log(table(['scenario', 'what it does'], listed.map((s) => [s.name, s.title])));
    return;
  }
  const scenarios: { scenario: Scenario; arg: string }[] = [];
  if (names.length === 0) for (const s of defaultReport()) scenarios.push({ scenario: s, arg: s.name });
  for (const n of names) for (const s of await scenariosNamed(n)) scenarios.push({ scenario: s, arg: n });
  const overrides = configFromOptions(o);
  const { problems } = resolveConfig(overrides);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  if (o.svg !== undefined && !scenarios.some((s) => s.scenario.name === 'safeperf')) throw new UsageError('--svg draws the safeperf curves: name safeperf among the scenarios');
  const results: ScenarioResult[] = [];
  const traceLines: string[] = [];
  console.log(color.bold('grantvm') + color.dim(' — MINIX 3 grants, safecopy, safemap, DS and VM, 2009-2010'));
  for (const { scenario, arg } of scenarios) {
    // No host clock: timed tests (safecopy, safeperf) report the model's simulated time under the profile.
    const r = await runScenario(scenario, overrides);
    results.push(r);
    printResult(r, o.verbose === true);
    if (!scenarioPassed(r) && (r.error !== null || r.checks.some((c) => !c.ok))) printFailure(r, replayCommand(arg, r.seed, o));
    if (o.trace !== undefined && r.system !== null) traceLines.push(toJsonLines(r.system.trace));
  }
  if (o.trace !== undefined) {
    writeFileSync(o.trace, traceLines.join(''));
    console.log(color.dim(`trace written to ${o.trace}`));
  }
  if (o.svg !== undefined) writeSimulatedSvg(o.svg, results);
  const checks = results.flatMap((r) => r.checks);
  const failed = checks.filter((c) => !c.ok).length + results.filter((r) => r.error !== null).length;
  console.log('');
  console.log(
    table(
      ['scenario', 'checks', 'failed', 'steps', 'trace hash'],
      results.map((r) => [r.name, r.checks.length, r.checks.filter((c) => !c.ok).length + (r.error !== null ? 1 : 0), r.steps, r.traceHash]),
    ),
  );
  const line = `${checks.filter((c) => c.ok).length} passed, ${failed} failed`;
  console.log(failed === 0 ? color.green(line) : color.red(line));
  if (failed > 0) process.exitCode = 1;
}

/** The command line that replays one scenario: its name or file, the seed, and the options that change the run. */
export function replayCommand(arg: string, seed: number, o: RunOptions): string {
  const parts = ['grantvm', 'run', /^[\w./@:+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`, '--seed', String(seed)];
  if (o.memory !== undefined) parts.push('--memory', String(o.memory));
  if (o.sanity !== undefined) parts.push('--sanity', o.sanity);
  if (o.cow === false) parts.push('--no-cow');
  if (o.grantIds !== undefined) parts.push('--grant-ids', o.grantIds);
  if (o.schedule !== undefined) parts.push('--schedule', o.schedule);
  if (o.profile !== undefined) parts.push('--profile', o.profile);
  return parts.join(' ');
}

/** How many failed calls the failure report lists. */
const LAST_FAILED_CALLS = 5;

/**
 * What the trace says about a failed run: every panic and every process killed by a signal, then (if there was
 * one) the last kernel calls, IPCs, grant operations and VM requests that returned an error, oldest first,
 * each with its process (endpoint and name), its call and the errno name. Empty if nothing panicked or was
 * killed, or if the trace was not kept in memory.
 */
export function failureDiagnosis(trace: readonly TraceEvent[], last = LAST_FAILED_CALLS): string[] {
  const names = new Map<number, string>();
  const incidents: string[] = [];
  for (const e of trace) {
    if (e.kind === 'proc') {
      if (e.op !== 'exit' && e.op !== 'kill') names.set(e.ep, e.name);
      if (e.op === 'kill') incidents.push(`step ${e.step}: ${e.name} (${e.ep}) killed by ${signalName(e.status ?? 0)}`);
    } else if (e.kind === 'panic') incidents.push(`step ${e.step}: panic: ${e.message}`);
  }
  if (incidents.length === 0) return [];
  const who = (ep: number): string => `${names.get(ep) ?? '?'} (${ep})`;
  const failed: string[] = [];
  for (let i = trace.length - 1; i >= 0 && failed.length < last; i--) {
    const e = trace[i];
    if (e === undefined) continue;
    const line = failedCall(e, who);
    if (line !== null) failed.push(line);
  }
  const out = [...incidents];
  if (failed.length > 0) out.push('last failed calls (kernel calls, IPC, grants, VM requests):', ...failed.reverse().map((l) => `  ${l}`));
  else out.push('no kernel call, IPC, grant or VM request failed before it');
  return out;
}

function failedCall(e: TraceEvent, who: (ep: number) => string): string | null {
  switch (e.kind) {
    case 'kcall':
      return e.result < 0 ? `step ${e.step}: ${who(e.caller)} ${e.call} → ${errnoName(e.result)}` : null;
    case 'ipc':
      return e.result < 0 ? `step ${e.step}: ${who(e.from)} ${e.op} to ${who(e.to)} (type ${e.mtype}) → ${errnoName(e.result)}` : null;
    case 'grant':
      return e.result < 0 ? `step ${e.step}: ${who(e.caller)} ${e.op} of grant ${e.gid} of ${who(e.granter)} → ${errnoName(e.result)}` : null;
    case 'vm':
      return e.result !== undefined && e.result < 0 ? `step ${e.step}: ${who(e.ep)} VM ${e.op} → ${errnoName(e.result)}` : null;
    default:
      return null;
  }
}

const SIGNAL_NAMES: Readonly<Record<number, string>> = { [SIGABRT]: 'SIGABRT', [SIGKILL]: 'SIGKILL', [SIGSEGV]: 'SIGSEGV', [SIGTERM]: 'SIGTERM' };

function signalName(sig: number): string {
  return SIGNAL_NAMES[sig] ?? `signal ${sig}`;
}

function printFailure(r: ScenarioResult, replay: string): void {
  console.log(`  ${color.red(`failed with seed ${r.seed}`)} — replay it with: ${color.bold(replay)}`);
  const trace = r.system?.trace ?? [];
  for (const l of failureDiagnosis(trace)) console.log(`  ${l}`);
}

function printResult(r: ScenarioResult, verbose: boolean): void {
  const mark = scenarioPassed(r) ? color.green('✓') : color.red('✗');
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
}

/** The safeperf curves of this run (simulated µs per page under the profile) as an SVG chart. */
function writeSimulatedSvg(file: string, results: readonly ScenarioResult[]): void {
  const r = results.find((x) => x.name === 'safeperf');
  const sys = r?.system;
  if (r === undefined || sys === null || sys === undefined) return;
  const table = parseSafeperfLines(r.lines);
  const pages = [...new Set([...table.keys()].map((k) => Number(k.split('|')[2])))].sort((a, b) => a - b);
  writeFileSync(file, safeperfSvg(sweepOf(table, pages), `simulated, profile ${sys.clock.profile.name}`, 'simulated'));
  console.log(color.dim(`safeperf chart written to ${file}`));
}
