// `grantvm trace SCENARIO -o FILE [--format jsonl|chrome]`: run a scenario (built-in or file) in the scenario
// worker and write its trace as JSON Lines, or in the Chrome trace-event format (one track per process) for
// standard trace viewers. The output file is checked before the run.
import { writeFileSync } from 'node:fs';
import { checkWritable, limitsFromOptions, UsageError } from '../options.ts';
import type { CommonOptions, LimitOptions } from '../options.ts';
import { oneScenario, withRunner } from '../runner.ts';
import { color } from '../format.ts';
import { checkedOverrides, replayCommand } from './run.ts';

interface TraceOptions extends CommonOptions, LimitOptions {
  output: string;
  format: string;
}

export async function traceCommand(name: string, o: TraceOptions): Promise<void> {
  if (o.format !== 'jsonl' && o.format !== 'chrome') throw new UsageError('--format must be jsonl or chrome');
  checkWritable(o.output, '--output');
  const overrides = { ...checkedOverrides(o), trace: 'memory' as const };
  await withRunner(limitsFromOptions(o), async (runner) => {
    const info = await oneScenario(runner, name, 'trace');
    const replay = `${replayCommand(name, overrides.seed ?? info.seed, o, 'trace')} -o ${o.output}`;
    const chrome = o.format === 'chrome';
    const r = await runner.run({ label: info.name, replay, scenario: info.arg, overrides, trace: !chrome, chrome });
    writeFileSync(o.output, (chrome ? r.chrome : r.trace) ?? '');
    console.log(`${r.events} events, ${r.steps} steps, trace hash ${r.traceHash} → ${o.output} (${o.format})`);
    if (r.error !== null || r.checks.some((c) => !c.ok)) {
      console.log(color.red(`the scenario failed: ${r.error ?? r.checks.filter((c) => !c.ok).map((c) => c.name).join('; ')}`));
      console.log(`replay it with: ${replay}`);
      process.exitCode = 1;
    }
  });
}
