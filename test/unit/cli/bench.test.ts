// `grantvm bench`: the SVG line chart on synthetic data, the JSON report, the safeperf table parser and a short
// real sweep, and one real run of the smallest group (ipc, one round) through the command function with --json.
// No timing is asserted.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchCommand,
  benchReportJson,
  parseSafeperfLines,
  runSafeperfSweep,
  safeperfSvg,
  summary,
  toRecords,
} from '../../../src/cli/commands/bench.ts';
import type { BenchReport, SafeperfSweepResult } from '../../../src/cli/commands/bench.ts';
import { escapeXml, lineChartSvg, niceTicks } from '../../../src/cli/svgchart.ts';
import { UsageError } from '../../../src/cli/options.ts';

/** Every tag opened is closed in order (self-closing tags aside), and there is exactly one root <svg>. */
function wellFormed(svg: string): boolean {
  const body = svg.replace(/^<\?xml[^>]*\?>\s*/, '');
  const stack: string[] = [];
  let roots = 0;
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, , self] = m;
    if (name === undefined) return false;
    if (close === '/') {
      if (stack.pop() !== name) return false;
    } else if (self !== '/') {
      if (stack.length === 0) roots++;
      stack.push(name);
    } else if (stack.length === 0) return false;
  }
  // No stray markup characters in text: everything outside tags is free of < and >.
  const text = body.replace(/<[^>]*>/g, '');
  return stack.length === 0 && roots === 1 && !/[<>]/.test(text);
}

const count = (s: string, re: RegExp): number => [...s.matchAll(re)].length;

describe('lineChartSvg', () => {
  const x = Array.from({ length: 50 }, (_, i) => i + 1);
  const chart = lineChartSvg({
    title: 'Synthetic <curves> & "quotes"',
    subtitle: 'node vX, today',
    xLabel: 'pages per call',
    yLabel: 'time per page (µs)',
    x,
    series: [
      { name: 'one over p', values: x.map((p) => 10 / p) },
      { name: 'flat', values: x.map(() => 2), dashed: true },
      { name: 'gappy', values: x.map((p) => (p % 7 === 0 ? null : 1 + p / 50)), color: '#123456' },
    ],
  });

  it('is one well-formed <svg> document with a title, escaped text and both axis labels', () => {
    expect(chart.startsWith('<?xml')).toBe(true);
    expect(wellFormed(chart)).toBe(true);
    expect(chart).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(chart).toContain('Synthetic &lt;curves&gt; &amp; &quot;quotes&quot;');
    expect(chart).toMatch(/class="x-label"[^>]*>pages per call</);
    expect(chart).toMatch(/class="y-label"[^>]*>time per page \(µs\)</);
    expect(chart).not.toMatch(/<script|href=|@import/);
  });

  it('draws one <polyline> per series and one legend entry per series', () => {
    expect(count(chart, /<polyline /g)).toBe(3);
    const legend = /<g class="legend">([\s\S]*?)<\/g>/.exec(chart)?.[1] ?? '';
    for (const name of ['one over p', 'flat', 'gappy']) expect(legend).toContain(`>${name}</text>`);
    expect(count(legend, /<line /g)).toBe(3);
    expect(chart).toContain('stroke-dasharray="6 4"');
    expect(chart).toContain('stroke="#123456"');
    // The gappy series leaves out its missing points (7 of 50).
    const points = [...chart.matchAll(/<polyline [^>]*points="([^"]*)"/g)].map((m) => (m[1] ?? '').split(' ').length);
    expect(points).toEqual([50, 50, 43]);
  });

  it('has ticks on both axes, labelled with round numbers covering the data', () => {
    const labels = /<g class="tick-labels"[^>]*>([\s\S]*?)<\/g>/.exec(chart)?.[1] ?? '';
    const values = [...labels.matchAll(/>([-\d.]+)</g)].map((m) => Number(m[1]));
    expect(values).toContain(0);
    expect(values).toContain(50);
    expect(values).toContain(10);
    expect(niceTicks(0, 10.3, 5)).toEqual([0, 5, 10, 15]);
    expect(niceTicks(0, 9.5, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(0, 50, 10)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
    expect(escapeXml(`a<b>&'"`)).toBe('a&lt;b&gt;&amp;&apos;&quot;');
  });

  it('survives no data at all', () => {
    const empty = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', x: [], series: [{ name: 's', values: [] }] });
    expect(wellFormed(empty)).toBe(true);
    expect(empty).not.toMatch(/NaN|Infinity/);
  });
});

describe('safeperf sweep', () => {
  const sweep: SafeperfSweepResult = {
    pages: [1, 2, 3],
    series: (['copy', 'cow', 'map'] as const).flatMap((kind) =>
      (['read', 'write'] as const).map((touch) => ({ name: `${kind} ${touch}`, kind, touch, nsPerPage: [3000, 1500, null] })),
    ),
  };

  it('draws six curves: one colour per kind, dashed for the write touch', () => {
    const svg = safeperfSvg(sweep, 'node v20, 2026-01-01');
    expect(wellFormed(svg)).toBe(true);
    expect(count(svg, /<polyline /g)).toBe(6);
    expect(count(svg, /<polyline [^>]*stroke-dasharray/g)).toBe(3);
    expect(svg).toContain('time per page (µs)');
    expect(svg).toContain('pages per call');
  });

  it("parses the suite's tables per COW mode", () => {
    const lines = [
      '— cowSafecopy off',
      'PASS [cow off] requestor pages=0 map=0 write=0: usage line, exit 1',
      'pages    copy read copy write   map read  map write   (us/page)',
      '    1        1.500      1.600      7.000      8.000',
      '    2        0.900          -      3.000      4.000',
      'PASS [cow off] sanity checks pass; no safemap record left',
      '— cowSafecopy on',
      'pages    copy read copy write   map read  map write   (us/page)',
      '    1        5.000      6.000      7.100      8.100',
    ];
    const m = parseSafeperfLines(lines);
    expect(m.get('off|copy read|1')).toBe(1.5);
    expect(m.get('off|map write|2')).toBe(4);
    expect(m.has('off|copy write|2')).toBe(false);
    expect(m.get('on|copy write|1')).toBe(6);
    expect(m.size).toBe(11);
  });

  it('a short real sweep (2 sizes, 2 iterations) gives six curves of positive times', async () => {
    const steps: number[] = [];
    const s = await runSafeperfSweep(1, (done) => steps.push(done), [1, 2], 2);
    expect(s.pages).toEqual([1, 2]);
    expect(s.series.map((x) => `${x.kind}/${x.touch}`)).toEqual([
      'copy/read',
      'copy/write',
      'cow/read',
      'cow/write',
      'map/read',
      'map/write',
    ]);
    for (const x of s.series) for (const v of x.nsPerPage) expect(v).toBeGreaterThanOrEqual(0);
    expect(steps.at(-1)).toBe(1 * 2 * 2 * 4 * 2 * 2);
  });
});

describe('the JSON report', () => {
  it('has one row per result, met only where there is a goal, with node version and date', () => {
    const results = toRecords('ipc', [
      { name: 'base', nsPerOp: 10, ratio: 1 },
      { name: 'fast', nsPerOp: 15, ratio: 1.5, goal: 2 },
      { name: 'slow', nsPerOp: 30, ratio: 3, goal: 2 },
    ]);
    const report: BenchReport = { node: 'v20.0.0', date: '2026-01-01T00:00:00.000Z', rounds: null, results };
    const parsed = JSON.parse(benchReportJson(report)) as BenchReport;
    expect(parsed).toEqual(report);
    expect(parsed.results).toEqual([
      { group: 'ipc', name: 'base', nsPerOp: 10, ratio: 1 },
      { group: 'ipc', name: 'fast', nsPerOp: 15, ratio: 1.5, goal: 2, met: true },
      { group: 'ipc', name: 'slow', nsPerOp: 30, ratio: 3, goal: 2, met: false },
    ]);
    expect('met' in (parsed.results[0] ?? {})).toBe(false);
  });

  it('carries min, max, rounds, spread and the noise flag of rows measured over rounds; one round is indicative', () => {
    const [steady, noisy, once] = toRecords('grants', [
      { name: 'steady', nsPerOp: 100, ratio: 1.2, goal: 1.3, min: 95, max: 110, rounds: 5 },
      { name: 'noisy', nsPerOp: 100, ratio: 1.2, goal: 1.3, min: 80, max: 130, rounds: 5 },
      { name: 'once', nsPerOp: 100, ratio: 1.2, goal: 1.3, min: 100, max: 100, rounds: 1 },
    ]);
    expect(steady).toEqual({ group: 'grants', name: 'steady', nsPerOp: 100, ratio: 1.2, goal: 1.3, met: true, min: 95, max: 110, rounds: 5, spread: 0.15, noisy: false });
    expect(noisy?.noisy).toBe(true);
    expect(noisy?.spread).toBeCloseTo(0.5);
    expect(once?.indicative).toBe(true);
    expect(steady?.indicative).toBeUndefined();
    // The closing line judges the goals of several rounds only, and counts the noisy results.
    const text = summary([steady, noisy, once].filter((r) => r !== undefined));
    expect(text).toContain('all 2 goals met');
    expect(text).toContain('1 goal indicative only (1 round)');
    expect(text).toContain('1 noisy result (spread > 20%)');
    expect(summary(toRecords('ipc', [{ name: 'b', nsPerOp: 1, ratio: 1 }]))).toBe('no goals set');
  });
});

describe('benchCommand', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('bench ipc --rounds 1 --clock cpu --json FILE prints the table and writes every result', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grantvm-bench-'));
    dirs.push(dir);
    const file = join(dir, 'bench.json');
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      out.push(a.map(String).join(' '));
    });
    await benchCommand(['ipc'], { json: file, rounds: 1, clock: 'cpu' });
    const text = out.join('\n');
    expect(text).toContain('IPC: sendrec round trip vs bare async ping-pong');
    expect(text).toMatch(/bare async ping-pong \(baseline\)\s+[\d.]+ ns\/op \(host\) \[[^\]]+\]\s+1\.00×/);
    expect(text).toContain('host time: every figure below times this JavaScript engine');
    expect(text).toContain(`results written to ${file}`);
    // One round: every figure has its [min–max, 1 round] column and the goals are indicative only.
    expect(text).toMatch(/sendrec round trip, server replies with send\s+[\d.]+ ns\/op \(host\) \[[\d.]+–[\d.]+, 1 round\]\s+[\d.]+× {2}goal ≤ 2: indicative only \(1 round\)/);
    expect(text).toContain('2 goals indicative only (1 round)');
    expect(text).not.toContain('NOT met');
    const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
    expect(report.node).toBe(process.version);
    expect(Number.isNaN(Date.parse(report.date))).toBe(false);
    expect(report.rounds).toBe(1);
    expect(report.clock).toBe('cpu');
    expect(text).toContain('clock: CPU time of this process for ipc, grants, ds and vm');
    expect(report.safeperf).toBeUndefined();
    expect(report.results.length).toBe(3);
    for (const r of report.results) {
      expect(r.group).toBe('ipc');
      expect(typeof r.nsPerOp).toBe('number');
      expect(typeof r.ratio).toBe('number');
      expect(r.met === undefined).toBe(r.goal === undefined);
      expect(r.indicative === true).toBe(r.goal !== undefined);
      expect(r.rounds).toBe(1);
      expect(r.min).toBe(r.nsPerOp);
    }
  });

  it('an unknown group, --rounds 0 and --svg without safeperf are usage errors', async () => {
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await expect(benchCommand(['nope'], {})).rejects.toThrow(UsageError);
    await expect(benchCommand(['nope'], {})).rejects.toThrow(/unknown benchmark group 'nope' \(groups: ipc, mmu, grants, vm, ds, safeperf, accounting\)/);
    await expect(benchCommand(['ipc'], { rounds: 0 })).rejects.toThrow(UsageError);
    await expect(benchCommand(['ipc'], { clock: 'sundial' })).rejects.toThrow(/--clock must be wall or cpu, not 'sundial'/);
    await expect(benchCommand(['ipc'], { svg: 'x.svg' })).rejects.toThrow(/--svg draws the safeperf sweep/);
  });
});
