// `grantvm test [suite]`: runs the conformance suites (scenarios tagged with a suite: safecopy, safemap,
// safeperf, and any other tagged scenario), each on a fresh system, and prints every check as passed or
// failed. `all` (the default) runs every suite. Each suite runs in the scenario worker (runner.ts) under the
// step and wall-clock limits. Exit code 0 iff all passed.
import { conformanceSuites } from '../../sim/scenarios.ts';
import type { Scenario } from '../../sim/scenario.ts';
import { limitsFromOptions, UsageError } from '../options.ts';
import type { CommonOptions, LimitOptions } from '../options.ts';
import { withRunner } from '../runner.ts';
import type { ScenarioReport } from '../runner.ts';
import { color } from '../format.ts';
import { checkedOverrides, replayCommand } from './run.ts';

interface TestOptions extends CommonOptions, LimitOptions {
  verbose?: boolean;
}

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
  const overrides = checkedOverrides(o);
  let passed = 0;
  let failed = 0;
  await withRunner(limitsFromOptions(o), async (runner) => {
    for (const s of scenarios) {
      const replay = replayCommand(s.suite ?? s.name, overrides.seed ?? s.config?.seed ?? 1, o, 'test');
      // As in `run`: the timed suites report simulated time under the profile (deterministic), not the host's.
      const r = await runner.run({ label: s.name, replay, scenario: s.name, overrides });
      failed += printSuite(r, o.verbose === true);
      passed += r.checks.filter((c) => c.ok).length;
    }
  });
  const line = `${passed} passed, ${failed} failed`;
  console.log(`\n${failed === 0 ? color.green(line) : color.red(line)}`);
  if (failed > 0) process.exitCode = 1;
}

/** Prints one suite's checks (and with -v its services' output); the number of failures. */
function printSuite(r: ScenarioReport, verbose: boolean): number {
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
