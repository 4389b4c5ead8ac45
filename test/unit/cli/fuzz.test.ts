// `grantvm fuzz`: a short campaign through the command function prints its summary (runs, commands, checks,
// violations, leaks) and exits 0; --replay reruns one run command by command; bad option combinations are usage
// errors. The engine itself is tested in test/unit/model/.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fuzzCommand, parseMinutes } from '../../../src/cli/commands/fuzz.ts';
import { UsageError } from '../../../src/cli/options.ts';
import { generateCommands } from '../../../src/sim/model/commands.ts';

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
    expect(text).toMatch(/^invariant checks: +[1-9]\d*$/m);
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
});
