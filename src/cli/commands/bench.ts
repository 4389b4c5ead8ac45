// `grantvm bench [group...] [--json FILE] [--svg FILE] [--rounds N] [--clock wall|cpu]`: runs the benchmark groups of src/cli/bench/ (all,
// or those named: ipc, mmu, grants, vm, ds, safeperf, accounting) with a progress bar on a terminal and plain periodic lines
// otherwise, prints each group's table (ns/op and the ratio against the host's own operation measured in the same
// run), writes every result as JSON with --json, and with --svg draws the safeperf sweep (time per page against
// pages 1..50 for copy, COW copy and map, read and write touch) as a self-contained SVG line chart.
// The benchmark modules are loaded on demand, so the other commands start without them. Entry points:
// benchCommand, benchReportJson, safeperfSvg, parseSafeperfLines, BENCH_GROUPS.
import { writeFileSync } from 'node:fs';
import { SAFEPERF_MAX_PAGES } from '../../user/safeperf.ts';
import type { BenchResult, Progress } from '../bench/report.ts';
import type { BenchClock } from '../bench/report.ts';
import { NOISY_SPREAD, isNoisy, printResults, spreadOf, useClock, verdict } from '../bench/report.ts';
import { checkWritable, UsageError } from '../options.ts';
import { color } from '../format.ts';
import { lineChartSvg } from '../svgchart.ts';
import { progressReporter } from '../progress.ts';
import { DEFAULT_MAX_STEPS, DEFAULT_TIMEOUT_SECONDS, withRunner } from '../runner.ts';
import type { ScenarioReport } from '../runner.ts';

export const BENCH_GROUPS = ['ipc', 'mmu', 'grants', 'vm', 'ds', 'safeperf', 'accounting'] as const;
export type BenchGroup = (typeof BENCH_GROUPS)[number];

export interface BenchOptions {
  json?: string;
  svg?: string;
  /** Rounds of the groups that take them: ipc (default 7), mmu (5), grants (5), ds (5), safeperf sweeps (3), accounting (7). */
  rounds?: number;
  /** The clock of the ipc, grants, ds and vm groups: 'wall' (default) or 'cpu' (this process's CPU time). */
  clock?: string;
}

/**
 * One row of the JSON report. `met` is present iff `goal` is (ratio ≤ goal); `indicative` is true when the row was
 * measured in one round, so its verdict is not to be trusted. A row measured over rounds has `min`, `max`,
 * `rounds`, `spread` ((max − min) / median) and `noisy` (spread above 20%); `nsPerOp` is then the median.
 */
export interface BenchRecord {
  group: BenchGroup;
  name: string;
  nsPerOp: number;
  ratio: number;
  goal?: number;
  met?: boolean;
  indicative?: boolean;
  min?: number;
  max?: number;
  rounds?: number;
  spread?: number;
  noisy?: boolean;
}

export type SafeperfKind = 'copy' | 'cow' | 'map';
export type SafeperfTouch = 'read' | 'write';

/** The safeperf sweep: ns per page for every page count, per (kind, touch). */
export interface SafeperfSweepResult {
  pages: number[];
  series: { name: string; kind: SafeperfKind; touch: SafeperfTouch; nsPerPage: (number | null)[] }[];
}

export interface BenchReport {
  node: string;
  date: string;
  rounds: number | null;
  /** The clock of the ipc, grants, ds and vm groups (the others always read the wall clock). */
  clock?: BenchClock;
  results: BenchRecord[];
  safeperf?: SafeperfSweepResult;
}

interface GroupDef {
  title: string;
  run: (rounds: number | undefined, progress: Progress) => Promise<readonly BenchResult[]>;
}

/** Filled in by the safeperf group, for --json and --svg. */
let lastSweep: SafeperfSweepResult | undefined;

const GROUPS: Record<BenchGroup, GroupDef> = {
  ipc: {
    title: 'IPC: sendrec round trip vs bare async ping-pong',
    run: async (rounds, progress) => (await import('../bench/ipc.bench.ts')).runIpcBench(rounds, progress),
  },
  mmu: {
    title: 'MMU: writes and reads through the MMU vs raw TypedArray copies',
    run: async (rounds, progress) => (await import('../bench/mmu.bench.ts')).runMmuBench(rounds, progress),
  },
  grants: {
    title: 'Grants: safecopy vs copyWithin, small-copy rate, indirect chains, copy-on-write',
    run: async (rounds, progress) => (await import('../bench/grants.bench.ts')).runGrantsBench([], progress, rounds),
  },
  vm: {
    title: 'VM: fork, faults, COW break and the sanity sweep vs raw TypedArray work and their goals',
    run: async (_rounds, progress) => (await import('../bench/vm.bench.ts')).runVmBench(progress),
  },
  ds: {
    title: 'DS: publish+retrieve round trips, subscription fan-out per subscriber, restart by RS (kernel steps)',
    run: async (rounds, progress) => (await import('../bench/ds.bench.ts')).runDsBench(rounds, progress),
  },
  safeperf: {
    title: 'safeperf (host time): safecopy (COW off and on) and safemap per page, read and write touch, vs a host 4 KiB copy',
    run: async (rounds, progress) => {
      lastSweep = await runSafeperfSweep(rounds ?? 3, progress);
      return safeperfRows(lastSweep);
    },
  },
  accounting: {
    title: "accounting: the cost model's host cost on grantvm run's scenarios and on a fuzz run, accounting on vs off (CPU time, each side on its own worker thread)",
    run: async (rounds, progress) => (await import('../bench/accounting.bench.ts')).runAccountingBench(rounds, progress),
  },
};

function isGroup(name: string): name is BenchGroup {
  return (BENCH_GROUPS as readonly string[]).includes(name);
}

export async function benchCommand(names: string[], o: BenchOptions): Promise<void> {
  const wanted = names.map((n) => n.toLowerCase());
  for (const n of wanted)
    if (!isGroup(n)) throw new UsageError(`unknown benchmark group '${n}' (groups: ${BENCH_GROUPS.join(', ')})`);
  const groups = BENCH_GROUPS.filter((g) => wanted.length === 0 || wanted.includes(g));
  if (o.rounds !== undefined && o.rounds < 1) throw new UsageError('--rounds must be at least 1');
  const clock = o.clock ?? 'wall';
  if (clock !== 'wall' && clock !== 'cpu') throw new UsageError(`--clock must be wall or cpu, not '${clock}'`);
  if (o.svg !== undefined && !groups.includes('safeperf'))
    throw new UsageError('--svg draws the safeperf sweep: name safeperf among the groups (or name none)');
  if (o.json !== undefined) checkWritable(o.json, '--json');
  if (o.svg !== undefined) checkWritable(o.svg, '--svg');
  // One round has no spread to judge it by: its figures can be far off, and its goals are marked indicative only.
  if (o.rounds === 1) process.stderr.write('grantvm bench: note: --rounds 1 is a smoke test: goals measured in one round are indicative only; quote figures of the default rounds\n');
  lastSweep = undefined;
  useClock(clock);
  try {
    await runGroups(groups, o, clock);
  } finally {
    // The wall clock again, which a later command in the same process (the test host) expects by default.
    useClock('wall');
  }
}

/** Runs and prints the chosen groups on the chosen clock, then writes --json and --svg, and the closing verdict. */
async function runGroups(groups: readonly BenchGroup[], o: BenchOptions, clock: BenchClock): Promise<void> {
  const records: BenchRecord[] = [];
  const t0 = performance.now();
  console.log(color.bold('grantvm bench') + color.dim(` — ${groups.join(', ')}; node ${process.version}`));
  // The engine's speed, not the model's answer: the simulated costs are `grantvm run safeperf` and `compare`.
  console.log(color.dim('host time: every figure below times this JavaScript engine, not the simulated machine (see docs/cost-model.md)'));
  if (clock === 'cpu') console.log(color.dim('clock: CPU time of this process for ipc, grants, ds and vm (the other groups read the wall clock)'));
  for (const g of groups) {
    const def = GROUPS[g];
    const bar = progressReporter(g);
    let results: readonly BenchResult[];
    try {
      results = await def.run(o.rounds, bar.update);
    } finally {
      bar.stop();
    }
    printResults(def.title, results);
    records.push(...toRecords(g, results));
  }
  const report: BenchReport = {
    node: process.version,
    date: new Date().toISOString(),
    rounds: o.rounds ?? null,
    clock,
    results: records,
    ...(lastSweep !== undefined ? { safeperf: lastSweep } : {}),
  };
  console.log('');
  if (o.json !== undefined) {
    writeFileSync(o.json, benchReportJson(report));
    console.log(color.dim(`results written to ${o.json}`));
  }
  if (o.svg !== undefined && lastSweep !== undefined) {
    writeFileSync(o.svg, safeperfSvg(lastSweep, `node ${report.node}, ${report.date}`));
    console.log(color.dim(`safeperf chart written to ${o.svg}`));
  }
  console.log(`${records.length} results in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${summary(records)}`);
}

/** The closing verdict: goals met or not (indicative ones apart), and how many results are noisy. */
export function summary(records: readonly BenchRecord[]): string {
  const judged = records.filter((r) => r.met !== undefined && r.indicative !== true);
  const unmet = judged.filter((r) => r.met === false).length;
  const indicative = records.filter((r) => r.indicative === true).length;
  const noisy = records.filter((r) => r.noisy === true).length;
  const parts: string[] = [];
  if (judged.length === 0 && indicative === 0) parts.push('no goals set');
  else if (judged.length > 0) parts.push(unmet === 0 ? color.green(`all ${judged.length} goals met`) : color.red(`${unmet} of ${judged.length} goals NOT met`));
  if (indicative > 0) parts.push(color.yellow(`${indicative} goal${indicative === 1 ? '' : 's'} indicative only (1 round)`));
  if (noisy > 0) parts.push(color.yellow(`${noisy} noisy result${noisy === 1 ? '' : 's'} (spread > ${NOISY_SPREAD * 100}%): rerun on a quieter machine`));
  return parts.join('; ');
}

/** The group's results as JSON rows (`met` only where there is a goal; the spread only for rows with rounds). */
export function toRecords(group: BenchGroup, results: readonly BenchResult[]): BenchRecord[] {
  return results.map((r) => ({
    group,
    name: r.name,
    nsPerOp: r.nsPerOp,
    ratio: r.ratio,
    ...(r.goal !== undefined ? { goal: r.goal, met: r.ratio <= r.goal } : {}),
    ...(verdict(r) === 'indicative' ? { indicative: true } : {}),
    ...(r.min !== undefined && r.max !== undefined && r.rounds !== undefined
      ? { min: r.min, max: r.max, rounds: r.rounds, spread: spreadOf(r), noisy: isNoisy(r) }
      : {}),
  }));
}

export function benchReportJson(report: BenchReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

// ------------------------------------------------------------------ safeperf

const SWEEP_PAGES = Array.from({ length: SAFEPERF_MAX_PAGES }, (_, i) => i + 1);
const SWEEP_ITERATIONS = 100;
const MODES = ['copy read', 'copy write', 'map read', 'map write'] as const;

/** The six curves: [name, kind, touch, cow mode of the run, column of the suite's table]. */
const SERIES: readonly [string, SafeperfKind, SafeperfTouch, 'off' | 'on', (typeof MODES)[number]][] = [
  ['safecopy, read touch', 'copy', 'read', 'off', 'copy read'],
  ['safecopy, write touch', 'copy', 'write', 'off', 'copy write'],
  ['COW safecopy, read touch', 'cow', 'read', 'on', 'copy read'],
  ['COW safecopy, write touch', 'cow', 'write', 'on', 'copy write'],
  ['safemap, read touch', 'map', 'read', 'off', 'map read'],
  ['safemap, write touch', 'map', 'write', 'off', 'map write'],
];

/**
 * The safeperf suite's tables, from its lines: `— cowSafecopy off|on`, then `pages  copy read  copy write  map read
 * map write   (us/page)` and one row per page count. Map key: `${cow}|${column}|${pages}` → µs per page.
 */
export function parseSafeperfLines(lines: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  let cow: string | null = null;
  let inTable = false;
  for (const l of lines) {
    const mode = /^— cowSafecopy (on|off)$/.exec(l);
    if (mode !== null) {
      cow = mode[1] ?? null;
      inTable = false;
      continue;
    }
    if (/^pages\s+copy read\s+copy write\s+map read\s+map write\s+\(us\/page\)$/.test(l)) {
      inTable = cow !== null;
      continue;
    }
    const row = inTable ? /^\s*(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$/.exec(l) : null;
    if (row === null) {
      inTable = false;
      continue;
    }
    for (const [i, col] of MODES.entries()) {
      const v = Number(row[i + 2]);
      if (Number.isFinite(v)) out.set(`${cow ?? ''}|${col}|${row[1] ?? ''}`, v);
    }
  }
  return out;
}

/**
 * `rounds` runs of the safeperf suite (pages 1..50, 100 iterations, COW off and on) with the host clock, best
 * time per point, in the scenario worker under the default limits. Progress counts the clock's reads: each
 * run reads it twice per iteration.
 */
export async function runSafeperfSweep(
  rounds: number,
  progress?: Progress,
  pages: readonly number[] = SWEEP_PAGES,
  iterations = SWEEP_ITERATIONS,
): Promise<SafeperfSweepResult> {
  const perRun = 2 * pages.length * MODES.length * iterations * 2;
  const total = rounds * perRun;
  const best = new Map<string, number>();
  const limits = { maxSteps: DEFAULT_MAX_STEPS, timeoutSeconds: DEFAULT_TIMEOUT_SECONDS };
  await withRunner(limits, async (runner) => {
    for (let r = 0; r < rounds; r++) {
      const job = { label: 'safeperf', replay: 'grantvm bench safeperf', sweep: { pages, iterations }, overrides: {}, hostClock: true };
      const res = await runner.run(job, (reads) => progress?.(Math.min(r * perRun + reads, total), total));
      failIfBroken(res);
      for (const [k, v] of parseSafeperfLines(res.lines)) best.set(k, Math.min(v, best.get(k) ?? Number.POSITIVE_INFINITY));
    }
  });
  progress?.(total, total);
  if (best.size === 0) throw new Error('safeperf: the suite printed no table (has its format changed?)');
  return sweepOf(best, pages);
}

/** The six curves of a safeperf table parsed by {@link parseSafeperfLines}, for the given page counts. */
export function sweepOf(best: ReadonlyMap<string, number>, pages: readonly number[]): SafeperfSweepResult {
  return {
    pages: [...pages],
    series: SERIES.map(([name, kind, touch, cow, col]) => ({
      name,
      kind,
      touch,
      nsPerPage: pages.map((p) => {
        const us = best.get(`${cow}|${col}|${p}`);
        return us === undefined ? null : Math.round(us * 1000);
      }),
    })),
  };
}

function failIfBroken(res: ScenarioReport): void {
  const bad = res.checks.find((c) => !c.ok);
  if (res.error !== null) throw new Error(`safeperf stopped: ${res.error}`);
  if (bad !== undefined) throw new Error(`safeperf check failed: ${bad.name}${bad.detail !== '' ? ` — ${bad.detail}` : ''}`);
}

/** The host's own per-page work: copyWithin of 4 KiB, best ns per page over 50-page passes. */
function hostPageCopyNs(): number {
  const page = 4096;
  const n = SAFEPERF_MAX_PAGES;
  const buf = new Uint8Array(2 * n * page);
  buf.fill(7, 0, n * page);
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 200; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) buf.copyWithin((n + i) * page, i * page, (i + 1) * page);
    best = Math.min(best, ((performance.now() - t0) * 1e6) / n);
  }
  return best;
}

/** The table rows: the host baseline, then every curve at the smallest and the largest page count. */
function safeperfRows(s: SafeperfSweepResult): BenchResult[] {
  const base = hostPageCopyNs();
  const rows: BenchResult[] = [{ name: 'host copyWithin 4 KiB, per page (baseline)', nsPerOp: base, ratio: 1 }];
  const ends = [0, s.pages.length - 1].filter((i, k, a) => a.indexOf(i) === k);
  for (const x of s.series)
    for (const i of ends) {
      const ns = x.nsPerPage[i];
      if (ns === null || ns === undefined) continue;
      const p = s.pages[i] ?? 0;
      rows.push({ name: `${x.name}, ${p} page${p === 1 ? '' : 's'}, per page`, nsPerOp: ns, ratio: ns / base });
    }
  return rows;
}

const KIND_COLOR: Record<SafeperfKind, string> = { copy: '#1f77b4', cow: '#2ca02c', map: '#d62728' };

/** The sweep as an SVG chart: µs per page against pages; one colour per kind, dashed for the write touch. */
export function safeperfSvg(s: SafeperfSweepResult, subtitle?: string, clock: 'host' | 'simulated' = 'host'): string {
  return lineChartSvg({
    title: `safeperf: ${clock} time per page, safecopy vs COW safecopy vs safemap`,
    ...(subtitle !== undefined ? { subtitle } : {}),
    xLabel: 'pages per call',
    yLabel: `${clock} time per page (µs)`,
    x: s.pages,
    series: s.series.map((x) => ({
      name: x.name,
      values: x.nsPerPage.map((v) => (v === null ? null : v / 1000)),
      color: KIND_COLOR[x.kind],
      dashed: x.touch === 'write',
    })),
  });
}
