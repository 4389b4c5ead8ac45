// `grantvm test [suite]`: runs the conformance suites (scenarios tagged with a suite: safecopy, safemap,
// safeperf, and any other tagged scenario), each on a fresh system, and prints every check as passed or
// failed. `all` (the default) runs every suite. Exit code 0 iff all passed.
import { conformanceSuites } from '../../sim/scenarios.ts';
import { runScenario } from '../../sim/scenario.ts';
import type { Scenario, ScenarioResult } from '../../sim/scenario.ts';
import { resolveConfig } from '../../sim/config.ts';
import { configFromOptions, UsageError } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color } from '../format.ts';

interface TestOptions extends CommonOptions {
  verbose?: boolean;
}

/** The host clock the timed tests may read (core code never does). */
export const hostClockNs = (): number => performance.now() * 1e6;

function selectSuites(name: string): Scenario[] {
  const suites = conformanceSuites();
  if (name === 'all') return [...suites.values()].flat();
  const chosen = suites.get(name);
  if (chosen === undefined)
    throw new UsageError(`unknown suite '${name}' (suites: ${[...suites.keys(), 'all'].join(', ')})`);
  return chosen;
}

export async function testCommand(suite: string | undefined, o: TestOptions): Promise<void> {
  const scenarios = selectSuites(suite ?? 'all');
  const overrides = configFromOptions(o);
  const { problems } = resolveConfig(overrides);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  let passed = 0;
  let failed = 0;
  for (const s of scenarios) {
    const r = await runScenario(s, overrides, { clockNs: hostClockNs });
    const bad = printSuite(r, o.verbose === true);
    failed += bad;
    passed += r.checks.length - r.checks.filter((c) => !c.ok).length;
  }
  const line = `${passed} passed, ${failed} failed`;
  console.log(`\n${failed === 0 ? color.green(line) : color.red(line)}`);
  if (failed > 0) process.exitCode = 1;
}

/** Prints one suite's checks (and with -v its services' output); the number of failures. */
function printSuite(r: ScenarioResult, verbose: boolean): number {
  console.log(`\n${color.bold(r.name)} — ${r.title}`);
  if (verbose)
    for (const l of r.lines)
      if (!l.startsWith('PASS ') && !l.startsWith('FAIL ')) console.log(color.dim(`  | ${l}`));
  for (const c of r.checks) {
    const mark = c.ok ? color.green('passed') : color.red('failed');
    console.log(`  ${mark}  ${c.name}${!c.ok && c.detail !== '' ? color.dim(` — ${c.detail}`) : ''}`);
  }
  let failures = r.checks.filter((c) => !c.ok).length;
  if (r.error !== null) {
    console.log(
      `  ${color.red('failed')}  stopped: ${r.error} ${color.dim(`(replay with --seed ${r.seed})`)}`,
    );
    failures++;
  }
  if (r.checks.length === 0 && r.error === null) {
    console.log(`  ${color.red('failed')}  no checks ran`);
    failures++;
  }
  return failures;
}
