// The test suite's own layout (test/helpers/isolation.ts, vitest.config.ts): which files share a worker is decided
// from their source, so the rule itself is tested: each construct that changes state outliving a file sends the
// file to a worker of its own, every state setter it names still exists in src/, and the two projects together
// hold every test file once.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../helpers/cli.ts';
import { needsIsolation, splitByIsolation, STATE_SETTERS, testFiles } from '../../helpers/isolation.ts';

describe('which test files share a worker', () => {
  it('isolates a file that mocks, assigns a process field, runs main() in-process or calls a state setter', () => {
    const outliving = [
      "vi.spyOn(console, 'log')",
      "vi.mock('../x.ts')",
      "vi.stubGlobal('fetch', f)",
      'vi.useFakeTimers()',
      'process.exitCode = undefined;',
      'process.stdout.write = capture;',
      "process.env.CI = '1';",
      'process.chdir(dir);',
      "import { main } from '../../../src/cli/main.ts';",
      ...STATE_SETTERS.map((s) => `${s}();`),
    ];
    for (const source of outliving) expect(needsIsolation(`const a = 1;\n${source}\n`), source).toBe(true);
  });

  it('shares a file that only reads the process or compares its fields', () => {
    const harmless = [
      'const runs = Number(process.env.MODEL_RUNS ?? 5);',
      'expect(process.exitCode === 1).toBe(false);',
      "const env = { ...process.env, CI: '1' };",
      'vi.fn()',
      "import { runMain } from '../../../src/cli/runner.ts';",
    ];
    for (const source of harmless) expect(needsIsolation(source), source).toBe(false);
  });

  it('names only state setters that src/ exports', () => {
    const sources = (dir: string): string[] =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.ts'))
        .map((f) => readFileSync(join(root, dir, f), 'utf8'));
    const src = sources('src').join('\n');
    for (const s of STATE_SETTERS) expect(src, s).toMatch(new RegExp(`export function ${s}\\(`));
  });

  it('puts every test file in exactly one project, and a file whose helper changes the process in isolation', () => {
    const { shared, isolated } = splitByIsolation(root);
    expect([...shared, ...isolated].sort()).toEqual(testFiles(root));
    expect(testFiles(root)).toContain('test/unit/suite/isolation.test.ts');
    // fuzz.test.ts keeps job workers; report.test.ts spies on the process's CPU clock.
    expect(isolated).toEqual(
      expect.arrayContaining(['test/unit/cli/fuzz.test.ts', 'test/unit/cli/bench/report.test.ts']),
    );
    expect(shared).toEqual(
      expect.arrayContaining(['test/unit/docs/readme.test.ts', 'test/unit/hw/mmu.test.ts']),
    );
  });
});
