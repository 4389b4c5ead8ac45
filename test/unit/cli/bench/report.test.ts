// The benchmarks' figures over rounds (src/cli/bench/report.ts): median, min and max, ratios paired round by round,
// the noise flag at 20% spread and the goal verdicts (met, NOT met, indicative only for one round), printed and
// as values; the CPU-time clock. Synthetic figures: no benchmark is timed.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { NOISY_SPREAD, Rounds, hostNow, isNoisy, printResults, spreadOf, useClock, verdict } from '../../../../src/cli/bench/report.ts';
import type { BenchResult } from '../../../../src/cli/bench/report.ts';

function printed(results: readonly BenchResult[]): string[] {
  const out: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    out.push(a.map(String).join(' '));
  });
  printResults('G', results);
  return out;
}

describe('Rounds', () => {
  afterEach(() => vi.restoreAllMocks());

  it('gives the median, min and max over rounds, and the median of the per-round ratios', () => {
    const r = new Rounds();
    // Round 2 is slow on both sides (load from elsewhere): paired ratios stay 2, 2, 2, 3, 2.
    for (const [b, m] of [[100, 200], [110, 220], [400, 800], [100, 300], [105, 210]] as const) {
      r.add('base', b);
      r.add('model', m);
    }
    expect(r.result('base')).toEqual({ name: 'base', nsPerOp: 105, ratio: 1, min: 100, max: 400, rounds: 5 });
    const m = r.result('model', { name: 'the model', baseline: 'base', goal: 2 });
    expect(m).toEqual({ name: 'the model', nsPerOp: 220, ratio: 2, goal: 2, min: 200, max: 800, rounds: 5 });
    expect(verdict(m)).toBe('met');
    // A fixed baseline (a budget in ns) divides every round by it; an even count takes the middle two.
    const f = new Rounds();
    for (const x of [300, 500, 400, 600]) f.add('x', x);
    expect(f.result('x', { baseline: 400, goal: 1 })).toMatchObject({ nsPerOp: 450, ratio: 1.125, min: 300, max: 600 });
    expect(verdict(f.result('x', { baseline: 400, goal: 1 }))).toBe('NOT met');
  });

  it('refuses a row without figures and a baseline measured in other rounds', () => {
    const r = new Rounds();
    r.add('a', 1);
    r.add('b', 1);
    r.add('b', 2);
    expect(() => r.result('none')).toThrow(/no figures for none/);
    expect(() => r.result('a', { baseline: 'b' })).toThrow(/differ in rounds/);
  });
});

describe('spread, noise and verdicts', () => {
  afterEach(() => vi.restoreAllMocks());

  const row = (min: number, med: number, max: number, rounds = 5): BenchResult => ({
    name: 'r',
    nsPerOp: med,
    ratio: 1.5,
    goal: 2,
    min,
    max,
    rounds,
  });

  it('flags a spread above 20% of the median, not one at or below it', () => {
    expect(NOISY_SPREAD).toBe(0.2);
    expect(spreadOf(row(90, 100, 110))).toBeCloseTo(0.2);
    expect(isNoisy(row(90, 100, 110))).toBe(false);
    expect(isNoisy(row(90, 100, 111))).toBe(true);
    // A single figure has no spread.
    expect(spreadOf({ name: 's', nsPerOp: 5, ratio: 1 })).toBe(0);
  });

  it('a goal measured in one round is indicative only, never met or NOT met', () => {
    expect(verdict(row(100, 100, 100, 1))).toBe('indicative');
    expect(verdict({ name: 'n', nsPerOp: 1, ratio: 1 })).toBeNull();
    expect(verdict({ name: 'n', nsPerOp: 1, ratio: 3, goal: 2 })).toBe('NOT met');
  });

  it('prints median, [min–max, rounds], ratio, the verdict and the noise flag', () => {
    const lines = printed([
      { name: 'base', nsPerOp: 100, ratio: 1, min: 95, max: 105, rounds: 7 },
      row(90, 100, 150),
      row(100, 100, 100, 1),
      { name: 'derived', nsPerOp: 42, ratio: 0.5 },
    ]);
    expect(lines[1]).toMatch(/base\s+100\.0 ns\/op \(host\) \[95\.0–105\.0, 7 rounds\]\s+1\.00×$/);
    expect(lines[2]).toMatch(/\[90\.0–150\.0, 5 rounds\]\s+1\.50× {2}goal ≤ 2: met {2}NOISY: spread 60% > 20%$/);
    expect(lines[3]).toMatch(/\[100\.0–100\.0, 1 round\]\s+1\.50× {2}goal ≤ 2: indicative only \(1 round\)$/);
    expect(lines[4]).toMatch(/derived\s+42\.0 ns\/op \(host\)\s+0\.50×$/);
  });

  it('prints a row of whole passes (10 ms and more) in milliseconds, its range too', () => {
    const lines = printed([{ name: 'pass', nsPerOp: 7.25e9, ratio: 1, min: 6.5e9, max: 7.9e9, rounds: 7 }]);
    expect(lines[1]).toMatch(/pass\s+7250\.0 ms\/op \(host\) \[6500\.0–7900\.0, 7 rounds\]\s+1\.00×$/);
  });
});

describe('hostNow', () => {
  afterEach(() => useClock('wall'));

  it('reads the wall clock by default, and with cpu the user + system time of the process in milliseconds', () => {
    const wall = hostNow();
    expect(Math.abs(wall - performance.now())).toBeLessThan(50);
    // The CPU clock is the process's own accounting (every thread's: the tests' other threads run in it too, so
    // a real measurement here could not be bounded); it reads process.cpuUsage, in microseconds.
    const usage = vi.spyOn(process, 'cpuUsage').mockReturnValue({ user: 1_500_000, system: 250_000 });
    useClock('cpu');
    expect(hostNow()).toBe(1750);
    usage.mockReturnValue({ user: 1_600_000, system: 260_000 });
    expect(hostNow()).toBe(1860);
    usage.mockRestore();
    useClock('wall');
    expect(Math.abs(hostNow() - performance.now())).toBeLessThan(50);
  });
});
