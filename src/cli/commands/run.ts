// `grantvm run [scenario...]`: boots a fresh system per scenario, runs it, prints each scenario's checks
// and a summary; exit code 1 if any check failed. `--list` names the built-in scenarios.
import { writeFileSync } from 'node:fs';
import { builtinScenarios, defaultReport, findScenario } from '../../sim/scenarios.ts';
import { runScenario, scenarioPassed } from '../../sim/scenario.ts';
import type { ScenarioResult } from '../../sim/scenario.ts';
import { toJsonLines } from '../../sim/trace.ts';
import { resolveConfig } from '../../sim/config.ts';
import { configFromOptions, UsageError } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color, table } from '../format.ts';
import { hostClockNs } from './test.ts';

interface RunOptions extends CommonOptions {
  list?: boolean;
  trace?: string;
  verbose?: boolean;
}

export async function runCommand(names: string[], o: RunOptions): Promise<void> {
  if (o.list === true) {
    console.log(table(['scenario', 'what it does'], builtinScenarios.map((s) => [s.name, s.title])));
    return;
  }
  const scenarios = names.length === 0 ? defaultReport() : names.map((n) => findScenario(n) ?? unknown(n));
  const overrides = configFromOptions(o);
  const { problems } = resolveConfig(overrides);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  const results: ScenarioResult[] = [];
  const traceLines: string[] = [];
  console.log(color.bold('grantvm') + color.dim(' — MINIX 3 grants, safecopy, safemap, DS and VM, 2009-2010'));
  for (const s of scenarios) {
    const r = await runScenario(s, overrides, { clockNs: hostClockNs });
    results.push(r);
    printResult(r, o.verbose === true);
    if (o.trace !== undefined && r.system !== null) traceLines.push(toJsonLines(r.system.trace));
  }
  if (o.trace !== undefined) {
    writeFileSync(o.trace, traceLines.join(''));
    console.log(color.dim(`trace written to ${o.trace}`));
  }
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

function unknown(name: string): never {
  throw new UsageError(`unknown scenario '${name}' (see grantvm run --list)`);
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
  if (r.error !== null) console.log(`  ${color.red(`stopped: ${r.error}`)} ${color.dim(`(replay with --seed ${r.seed})`)}`);
}
