// `grantvm faults`: a small real campaign through the command function (table, totals, --json), and its usage
// errors. The campaign's classifications are tested in test/unit/sim/faults.test.ts.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faultsCommand } from '../../../src/cli/commands/faults.ts';
import type { FaultReport } from '../../../src/sim/faults.ts';
import { UsageError } from '../../../src/cli/options.ts';

describe('faultsCommand', () => {
  const dirs: string[] = [];
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('--targets kv,ds --points 2 --json FILE prints the table with totals and writes the report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grantvm-faults-'));
    dirs.push(dir);
    const file = join(dir, 'faults.json');
    const out: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
      out.push(a.map(String).join(' '));
    });
    await faultsCommand({ targets: 'kv,ds', points: 2, json: file, seed: 4, jobs: 2 });
    const text = out.join('\n');
    expect(text).toMatch(
      /target\s+kill point\s+injected\s+activated\s+detected\s+recovered\s+hung\s+state lost\s+checks failed/,
    );
    expect(text).toMatch(/^all\s+all\s+4\s+/m);
    expect(text).toContain('DS kills detected as a system panic');
    expect(text).toContain('no leaks, no hangs, no lost acknowledged state');
    expect(process.exitCode).not.toBe(1);
    const report = JSON.parse(readFileSync(file, 'utf8')) as FaultReport;
    expect(report.seed).toBe(4);
    expect(report.injections.map((i) => i.target)).toEqual(['kv', 'kv', 'ds', 'ds']);
    expect(text).toMatch(/time: [\d.]+ s, 2 jobs/);
    // One job makes the same injections with the same outcomes, in the same order.
    const one = join(dir, 'one.json');
    await faultsCommand({ targets: 'kv,ds', points: 2, json: one, seed: 4, jobs: 1 });
    expect(JSON.parse(readFileSync(one, 'utf8'))).toEqual(report);
  }, 120_000);

  it('unknown targets and bad counts are usage errors', async () => {
    await expect(faultsCommand({ targets: 'user,nosuch' })).rejects.toThrow(/unknown target 'nosuch'/);
    await expect(faultsCommand({ targets: ',' })).rejects.toThrow(UsageError);
    await expect(faultsCommand({ points: 0 })).rejects.toThrow(UsageError);
    await expect(faultsCommand({ signal: 40 })).rejects.toThrow(UsageError);
    await expect(faultsCommand({ points: 3, everyStep: true })).rejects.toThrow(/--points or --every-step/);
  });
});
