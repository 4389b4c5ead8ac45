// Fuzzing coverage (src/sim/model/coverage.ts): every command kind has its reachable outcomes listed; a run counts
// each command's outcome under its kind (each command of a pair under its own kind, and the pair itself);
// unreached names what a campaign missed; `--require-coverage` fails a campaign that missed something.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { COMMAND_KINDS } from '../../../src/sim/model/commands.ts';
import type { Command } from '../../../src/sim/model/commands.ts';
import { REACHABLE, coverageRows, unreached } from '../../../src/sim/model/coverage.ts';
import { outcomeClass, runModel } from '../../../src/sim/model/executor.ts';
import { fuzzCommand } from '../../../src/cli/commands/fuzz.ts';

describe('fuzzing coverage', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });

  it('lists the reachable outcomes of every command kind', () => {
    expect(Object.keys(REACHABLE).sort()).toEqual([...COMMAND_KINDS].sort());
    for (const outs of Object.values(REACHABLE)) expect(outs).toContain('OK');
  });

  it('classes outcomes as OK, an errno name or killed', () => {
    expect(outcomeClass({ result: 0 })).toBe('OK');
    expect(outcomeClass({ result: 7, value: 3 })).toBe('OK');
    expect(outcomeClass({ result: -1 })).toBe('EPERM');
    expect(outcomeClass({ result: 'killed' })).toBe('killed');
  });

  it('a run counts each command under its kind and outcome', async () => {
    // A read-only grant: the copy from it works, the copy to it is refused (EPERM).
    const commands: Command[] = [
      { k: 'grant', a: 0, to: 1, page: 0, pages: 1, access: 1 },
      { k: 'copy', a: 1, dir: 'from', g: 0, gOff: 0, pos: 0, len: 100 },
      { k: 'copy', a: 1, dir: 'to', g: 0, gOff: 0, pos: 0, len: 100 },
      { k: 'revoke', a: 0, g: 0 },
      { k: 'pair', first: { k: 'publish', a: 0, key: 0, value: 5, flags: 0 }, second: { k: 'retrieve', a: 2, key: 1 } },
    ];
    const r = await runModel(commands, { everyStep: false });
    expect(r.violation).toBeNull();
    expect(r.coverage).toEqual({
      'grant OK': 1,
      'copy OK': 1,
      'copy EPERM': 1,
      'revoke OK': 1,
      'publish OK': 1,
      'retrieve ESRCH': 1,
      'pair OK': 1,
    });
    expect(unreached(r.coverage)).toContain('copy EDOM');
    expect(unreached(r.coverage)).not.toContain('copy EPERM');
    const copy = coverageRows({ ...r.coverage, 'copy ENOSYS': 2 }).find((x) => x.kind === 'copy');
    expect(copy?.outcomes).toContainEqual({ outcome: 'ENOSYS', count: 2, expected: false });
    expect(copy?.outcomes).toContainEqual({ outcome: 'EDOM', count: 0, expected: true });
  });

  it('--require-coverage fails a campaign too short to reach every outcome', async () => {
    const lines: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      lines.push(a.map(String).join(' '));
    });
    await fuzzCommand({ seed: 2, runs: 1, commands: 4, jobs: 1, everyCommand: true, requireCoverage: true });
    expect(lines.join('\n')).toMatch(/coverage: not reached: .*copy EDOM/);
    expect(process.exitCode).toBe(1);
  });
});
