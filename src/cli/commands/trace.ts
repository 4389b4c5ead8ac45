// `grantvm trace SCENARIO -o FILE [--format jsonl|chrome]`: run a scenario (built-in or file) and write its trace as
// JSON Lines, or in the Chrome trace-event format (one track per process) for standard trace viewers.
import { writeFileSync } from 'node:fs';
import { oneScenarioNamed } from '../scenariofile.ts';
import { runScenario } from '../../sim/scenario.ts';
import { resolveConfig } from '../../sim/config.ts';
import { toJsonLines } from '../../sim/trace.ts';
import { configFromOptions, UsageError } from '../options.ts';
import type { CommonOptions } from '../options.ts';
import { color } from '../format.ts';

interface TraceOptions extends CommonOptions {
  output: string;
  format: string;
}

export async function traceCommand(name: string, o: TraceOptions): Promise<void> {
  const scenario = await oneScenarioNamed(name, 'trace');
  if (o.format !== 'jsonl' && o.format !== 'chrome') throw new UsageError('--format must be jsonl or chrome');
  const overrides = { ...configFromOptions(o), trace: 'memory' as const };
  const { problems } = resolveConfig(overrides);
  if (problems.length > 0) throw new UsageError(problems.join('\n'));
  const r = await runScenario(scenario, overrides);
  if (r.system === null) throw new UsageError(`scenario ${name} did not boot: ${r.error ?? ''}`);
  const events = r.system.trace;
  writeFileSync(o.output, o.format === 'chrome' ? r.system.chromeTrace() : toJsonLines(events));
  console.log(`${events.length} events, ${r.steps} steps, trace hash ${r.traceHash} → ${o.output} (${o.format})`);
  if (r.error !== null || r.checks.some((c) => !c.ok)) {
    console.log(color.red(`the scenario failed: ${r.error ?? r.checks.filter((c) => !c.ok).map((c) => c.name).join('; ')}`));
    process.exitCode = 1;
  }
}
