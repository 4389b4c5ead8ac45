// `grantvm compare <scenario> --a k=v,... --b k=v,...`: runs one scenario under two configurations or cost
// profiles and prints simulated time, kernel entries, IPC, faults, VM requests, pages copied and frames side by
// side with the ratio b/a; --json writes the figures as JSON. Both sides are checked before anything runs; each
// runs in the scenario worker under the step and wall-clock limits. Entry points: compareCommand, parseSide,
// COMPARE_KEYS.
import { writeFileSync } from 'node:fs';
import type { CostFigures } from '../../sim/cost.ts';
import { resolveConfig } from '../../sim/config.ts';
import type { SystemConfig } from '../../sim/config.ts';
import { oneScenario, withRunner } from '../runner.ts';
import { checkWritable, configFromOptions, limitsFromOptions, UsageError } from '../options.ts';
import type { CommonOptions, LimitOptions } from '../options.ts';
import { loadProfile } from '../profileoption.ts';
import { color, table } from '../format.ts';

interface CompareOptions extends CommonOptions, LimitOptions {
  a?: string;
  b?: string;
  json?: string;
}

/** The config keys a side may set, and how each value is read. */
export const COMPARE_KEYS: Readonly<Record<string, (v: string) => Partial<SystemConfig>>> = {
  profile: (v) => ({ profile: loadProfile(v) }),
  cowSafecopy: (v) => ({ cowSafecopy: bool('cowSafecopy', v) }),
  cowBreak: (v) => ({ cowBreak: oneOf('cowBreak', v, ['block', 'page'] as const) }),
  grantIds: (v) => ({ grantIds: oneOf('grantIds', v, ['generational', 'legacy'] as const) }),
  schedule: (v) => ({ schedule: oneOf('schedule', v, ['priority', 'random'] as const) }),
  sanity: (v) => ({ sanity: oneOf('sanity', v, ['off', 'top', 'functions', 'detail'] as const) }),
  seed: (v) => ({ seed: int('seed', v) }),
  quantum: (v) => ({ quantum: int('quantum', v) }),
  tlbEntries: (v) => ({ tlbEntries: int('tlbEntries', v) }),
  ramBytes: (v) => ({ ramBytes: int('ramBytes', v) }),
};

function bool(key: string, v: string): boolean {
  if (v !== 'true' && v !== 'false') throw new UsageError(`${key} must be true or false, got '${v}'`);
  return v === 'true';
}

function int(key: string, v: string): number {
  if (!/^-?\d+$/.test(v)) throw new UsageError(`${key} must be an integer, got '${v}'`);
  return Number(v);
}

function oneOf<T extends string>(key: string, v: string, values: readonly T[]): T {
  const found = values.find((x) => x === v);
  if (found === undefined) throw new UsageError(`${key} must be one of ${values.join(', ')}, got '${v}'`);
  return found;
}

/** One side's settings: comma-separated key=value pairs (keys of {@link COMPARE_KEYS}). */
export function parseSide(flag: string, text: string): Partial<SystemConfig> {
  let out: Partial<SystemConfig> = {};
  for (const pair of text.split(',').filter((x) => x.trim() !== '')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair.trim() : pair.slice(0, eq).trim();
    const read = COMPARE_KEYS[key];
    if (eq < 0 || read === undefined)
      throw new UsageError(
        `${flag}: '${pair}' is not key=value with a key among ${Object.keys(COMPARE_KEYS).join(', ')}`,
      );
    out = { ...out, ...read(pair.slice(eq + 1).trim()) };
  }
  return out;
}

const ROWS: readonly [keyof CostFigures, string][] = [
  ['micros', 'simulated time (µs)'],
  ['cycles', 'cycles'],
  ['kernelEntries', 'kernel entries'],
  ['ipc', 'IPC operations'],
  ['pageFaults', 'page faults'],
  ['vmRequests', 'VM requests'],
  ['pagesCopied', 'pages copied'],
  ['frames', 'frames in use'],
];

const show = (x: number): string => (Number.isInteger(x) ? String(x) : x.toFixed(3));
const ratio = (a: number, b: number): string => (a === 0 ? (b === 0 ? '1.000' : '-') : (b / a).toFixed(3));

export async function compareCommand(name: string, o: CompareOptions): Promise<void> {
  if (o.a === undefined || o.b === undefined)
    throw new UsageError('compare needs both --a and --b (e.g. --a cowSafecopy=false --b cowSafecopy=true)');
  const base = configFromOptions(o);
  const sides = [
    { label: o.a, config: { ...base, ...parseSide('--a', o.a) } },
    { label: o.b, config: { ...base, ...parseSide('--b', o.b) } },
  ];
  for (const s of sides) {
    const problem = resolveConfig(s.config).problems[0];
    if (problem !== undefined) throw new UsageError(problem);
  }
  if (o.json !== undefined) checkWritable(o.json, '--json');
  const run = await withRunner(limitsFromOptions(o), async (runner) => {
    const info = await oneScenario(runner, name, 'compare');
    const figures: CostFigures[] = [];
    for (const s of sides) {
      // One system per side: a suite that would boot a second one for the other COW mode keeps to this one.
      const r = await runner.run({ label: info.name, replay: `grantvm compare ${name} --a ${o.a ?? ''} --b ${o.b ?? ''}`, scenario: info.arg, index: info.index, overrides: s.config, oneSystem: true, figures: true });
      if (r.error !== null || r.figures === undefined) {
        process.stderr.write(`grantvm: '${info.name}' stopped under ${s.label}: ${r.error ?? 'no system'}\n`);
        process.exitCode = 1;
        return null;
      }
      figures.push(r.figures);
    }
    return { name: info.name, figures };
  });
  if (run === null) return;
  const scenario = { name: run.name };
  const figures = run.figures;
  const [a, b] = figures as [CostFigures, CostFigures];
  if (o.json !== undefined) {
    writeFileSync(
      o.json,
      `${JSON.stringify({ scenario: scenario.name, a: { settings: o.a, ...a }, b: { settings: o.b, ...b } }, null, 2)}\n`,
    );
  }
  console.log(
    color.bold(`compare ${scenario.name}`) +
      color.dim(` — a: ${o.a} (${a.profile}), b: ${o.b} (${b.profile})`),
  );
  console.log(
    table(
      ['', 'a', 'b', 'b/a'],
      ROWS.map(([k, label]) => [
        label,
        show(a[k] as number),
        show(b[k] as number),
        ratio(a[k] as number, b[k] as number),
      ]),
    ),
  );
  if (o.json !== undefined) console.log(color.dim(`figures written to ${o.json}`));
}
