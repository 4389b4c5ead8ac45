// `grantvm fuzz`: a short campaign through the command function prints its summary (runs, commands, checks,
// violations, leaks) and exits 0; --replay reruns one run command by command; bad option combinations are usage
// errors. The engine itself is tested in test/unit/model/.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzCommand, fuzzMergeCommand, parseMinutes, parseShard } from '../../../src/cli/commands/fuzz.ts';
import type { FuzzReport } from '../../../src/cli/commands/fuzz.ts';
import { UsageError } from '../../../src/cli/options.ts';
import { generateCommands } from '../../../src/sim/model/commands.ts';
import { keepJobWorkers } from '../../../src/cli/workers.ts';

// The campaigns of --jobs 2 share two worker threads (the jobs carry all they need).
keepJobWorkers();

// eslint-disable-next-line no-control-regex
const plain = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

function captureLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(plain(args.map(String).join(' ')));
  });
  return lines;
}

describe('grantvm fuzz', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('runs a fixed budget and prints the summary', async () => {
    const lines = captureLog();
    await fuzzCommand({ seed: 5, runs: 3, commands: 8 });
    const text = lines.join('\n');
    expect(text).toMatch(/^runs: +3$/m);
    expect(text).toMatch(/^commands executed: +24$/m);
    const checks = /^invariant checks: +(\d+) \(VM (\d+) incremental, (\d+) full; grants (\d+); DS (\d+)\)$/m.exec(text);
    const [all, incremental, full, grants, ds] = (checks?.slice(1) ?? []).map(Number);
    expect(all).toBeGreaterThan(0);
    expect(incremental).toBeGreaterThan(0);
    // Every run has at least its first and its last check in full.
    expect(full).toBeGreaterThanOrEqual(6);
    expect([grants, ds]).toEqual([all, all]);
    expect(text).toMatch(/^violations: +0$/m);
    expect(text).toMatch(/^leaks: +0$/m);
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('--replay prints every command of the run with its outcome', async () => {
    const lines = captureLog();
    await fuzzCommand({ replay: 1234, commands: 6 });
    const cmds = generateCommands(1234, 6);
    expect(lines[0]).toMatch(
      /^replay of run seed 1234: 6 commands, cow on, legacy ids, random schedule \(seed 1234\)/,
    );
    cmds.forEach((c, i) => {
      expect(lines[i + 1]).toContain(JSON.stringify(c));
    });
    expect(lines.at(-1)).toMatch(/^6 commands, \d+ invariant checks, no failure$/);
  });

  it('--cow-break page reaches the run: the replay names it and passes', async () => {
    const lines = captureLog();
    await fuzzCommand({ replay: 1234, commands: 6, cowBreak: 'page' });
    expect(lines[0]).toMatch(/^replay of run seed 1234: 6 commands, cow on, cow break by page, legacy ids/);
    expect(lines.at(-1)).toMatch(/^6 commands, \d+ invariant checks, no failure$/);
  });

  it('rejects --runs with --minutes, and bad minutes', async () => {
    await expect(fuzzCommand({ runs: 1, minutes: 1 })).rejects.toThrow(UsageError);
    expect(() => parseMinutes('0')).toThrow(/positive number of minutes/);
    expect(() => parseMinutes('x')).toThrow(/positive number of minutes/);
    expect(parseMinutes('0.5')).toBe(0.5);
  });

  it('--runs 0 and bad shards are usage errors', async () => {
    await expect(fuzzCommand({ runs: 0 })).rejects.toThrow(/--runs must be at least 1/);
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    for (const bad of ['4/4', '1/0', '1', 'a/b', '-1/2'])
      expect(() => parseShard(bad)).toThrow(/is not a shard I\/N/);
  });

  it('--jobs 2 runs the same runs as one job; two shards merge into the unsharded report', async () => {
    captureLog();
    const dir = mkdtempSync(join(tmpdir(), 'grantvm-fuzz-'));
    const file = (name: string): string => join(dir, name);
    const read = (name: string): FuzzReport => JSON.parse(readFileSync(file(name), 'utf8')) as FuzzReport;
    const common = { seed: 4, runs: 3, commands: 5, everyCommand: true };
    await fuzzCommand({ ...common, jobs: 1, json: file('whole.json') });
    await fuzzCommand({ ...common, jobs: 2, json: file('jobs.json') });
    await fuzzCommand({ ...common, jobs: 1, shard: { index: 0, count: 2 }, json: file('s0.json') });
    await fuzzCommand({ ...common, jobs: 1, shard: { index: 1, count: 2 }, json: file('s1.json') });
    fuzzMergeCommand([file('s1.json'), file('s0.json')], { json: file('merged.json') });
    const totals = (r: FuzzReport): unknown => [r.runs, r.commands, r.checks, r.checksByKind, r.failures, r.shard];
    expect(read('whole.json').runs).toBe(3);
    expect(read('s0.json').runs).toBe(2);
    expect(totals(read('jobs.json'))).toEqual(totals(read('whole.json')));
    expect(totals(read('merged.json'))).toEqual(totals(read('whole.json')));
    expect(process.exitCode ?? 0).toBe(0);
  });

  it('merge refuses reports of another campaign, the same shard twice, and files that are no report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'grantvm-fuzz-'));
    const report = (seed: number, index: number): string => {
      const f = join(dir, `r${seed}-${index}.json`);
      const r: FuzzReport = {
        format: 'grantvm-fuzz-report',
        seed,
        commandsPerRun: 40,
        everyCommand: false,
        config: {},
        budgetRuns: 10,
        shard: { index, count: 2 },
        replayFlags: '--commands 40',
        jobs: 1,
        seconds: 1,
        runs: 5,
        commands: 200,
        checks: 900,
        checksByKind: { incremental: 880, full: 20, grant: 900, ds: 900 },
        failures: [],
        coverage: {},
      };
      writeFileSync(f, JSON.stringify(r));
      return f;
    };
    expect(() => {
      fuzzMergeCommand([report(1, 0), report(2, 1)], {});
    }).toThrow(/is of another campaign/);
    expect(() => {
      fuzzMergeCommand([report(1, 0), report(1, 0)], {});
    }).toThrow(/are the same shard 0\/2/);
    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{"runs": 3}');
    expect(() => {
      fuzzMergeCommand([junk], {});
    }).toThrow(/is not a report of grantvm fuzz --json/);
  });
});
