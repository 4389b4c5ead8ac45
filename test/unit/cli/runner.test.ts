// The scenario runner: scenarios run in a worker thread; a loop that enters the kernel stops at the step
// limit inside it, one that never does is stopped by the wall-clock limit (RunStopped, saying where), and the
// runner goes on with a fresh worker. Scenario files live in a scratch directory outside any project.
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { keepScenarioWorkers, RunStopped, withRunner } from '../../../src/cli/runner.ts';
import { UsageError } from '../../../src/cli/options.ts';
import { scratchDir } from '../../helpers/cli.ts';

const { file } = scratchDir('grantvm-runner-');
const scenario = (name: string, run: string): string =>
  `export const scenario = { name: '${name}', title: '${name}', async run(sys, out) { ${run} } };\n`;

const job = (path: string, label: string) => ({
  label,
  replay: `grantvm run ${path}`,
  scenario: path,
  overrides: {},
});

describe('withRunner', () => {
  it('lists and runs a file; a loop in the kernel stops at the step limit with the report', async () => {
    const f = file(
      'kloop.mjs',
      scenario(
        'kloop',
        "sys.spawn(async (p) => { for (;;) await p.getpid(); }, { name: 'kloop' }); await sys.run(); out.check('x', true);",
      ),
    );
    await withRunner({ maxSteps: 1500, timeoutSeconds: 60 }, async (runner) => {
      expect(await runner.list([f])).toEqual([{ arg: f, index: 0, name: 'kloop', title: 'kloop', seed: 1 }]);
      const r = await runner.run(job(f, 'kloop'));
      expect(r.steps).toBe(1500);
      expect(r.error).toMatch(/^stopped at the kernel step limit, step 1500, running/);
      expect(r.checks).toEqual([]);
    });
  });

  it('stops a program that spins without entering the kernel, naming it, then runs on in a new worker', async () => {
    const spin = file(
      'spin.mjs',
      scenario('spin', "sys.spawn(async () => { for (;;); }, { name: 'spinner' }); await sys.run();"),
    );
    const host = file('host.mjs', scenario('host', 'await sys.run(); for (;;);'));
    await withRunner({ maxSteps: 100_000, timeoutSeconds: 1 }, async (runner) => {
      const stopped = await runner.run(job(spin, 'spin')).catch((e: unknown) => e);
      expect(stopped).toBeInstanceOf(RunStopped);
      expect((stopped as Error).message).toMatch(
        /^'spin' stopped after 1 s \(--timeout\), at kernel step \d+, running spinner \(endpoint \d+\); replay: grantvm run .*spin\.mjs$/,
      );
      await expect(runner.run(job(host, 'host'))).rejects.toThrow(
        /in the scenario's own code \(no process running\)/,
      );
      const ok = await runner.run({ label: 'boot', replay: '', scenario: 'boot', overrides: {} });
      expect(ok.error).toBeNull();
    });
  });

  it('brings back crashes with their place in the source, blocked programs, a usage error for a bad file', async () => {
    const f = file(
      'crash.mts',
      [
        "export const scenario = { name: 'crash', title: 'crash', async run(sys: any, out: any) {",
        "  sys.spawn(async (p: any) => { await p.getpid(); throw new Error('boom'); }, { name: 'thrower' });",
        "  sys.spawn(async (p: any) => { await p.receive(-1); }, { name: 'waiter' });",
        "  await sys.run(); out.check('ran', true); } };",
      ].join('\n'),
    );
    await withRunner({ maxSteps: 100_000, timeoutSeconds: 60 }, async (runner) => {
      const r = await runner.run(job(f, 'crash'));
      expect(r.crashes).toHaveLength(1);
      expect(r.crashes[0]).toMatch(
        new RegExp(
          `^step \\d+: thrower \\(endpoint \\d+\\) threw Error: boom at ${f.replaceAll('.', '\\.')}:2:\\d+$`,
        ),
      );
      expect(r.blocked).toEqual([expect.stringMatching(/^waiter \(endpoint \d+\) waits in RECEIVING/)]);
      await expect(
        runner.list([file('bad.ts', 'export const scenario = {\n  name: 1 +* 2 };\n')]),
      ).rejects.toThrow(UsageError);
    });
  });
});

// Last in this file: it turns keeping on for the rest of the file's process.
describe('keepScenarioWorkers', () => {
  it("lends a command's worker to the next command, with a .ts file loaded afresh, but not after a .mjs file", async () => {
    keepScenarioWorkers();
    const counter =
      "import { threadId } from 'node:worker_threads'; let n = 0;\n" +
      "export const scenario = { name: 'c', title: 'c', async run(sys, out) { n++; out.line(`${threadId} ${n}`); out.check('ran', true); } };\n";
    const ts = file('count.ts', counter);
    const mjs = file('count.mjs', counter);
    // One command: the scenario's line, "worker thread, runs of this module".
    const line = (f: string, maxSteps = 100_000): Promise<string | undefined> =>
      withRunner(
        { maxSteps, timeoutSeconds: 60 },
        async (runner) => (await runner.run(job(f, 'c'))).lines[0],
      );
    const first = await line(ts);
    expect(first).toMatch(/^\d+ 1$/);
    expect(await line(ts)).toBe(first);
    expect(await line(mjs)).toBe(first);
    const fresh = await line(mjs);
    expect(fresh).toMatch(/^\d+ 1$/);
    expect(fresh).not.toBe(first);
    // Another step limit: another worker.
    const limited = await line(ts, 50_000);
    expect(limited).not.toBe(fresh);
    expect(await line(ts, 50_000)).toBe(limited);
    // A usage error (a scenario file of the wrong shape) leaves the worker as it was, to the next command.
    const shapeless = file('shapeless.ts', 'export const nothing = 1;\n');
    await expect(
      withRunner({ maxSteps: 50_000, timeoutSeconds: 60 }, (runner) => runner.list([shapeless])),
    ).rejects.toThrow(UsageError);
    expect(await line(ts, 50_000)).toBe(limited);
    // Another working directory (the one it started in may be gone, and tsx's compiler starts its helper there):
    // another worker.
    const elsewhere = (): Promise<string | undefined> => {
      const cwd = vi.spyOn(process, 'cwd').mockReturnValue(join(tmpdir(), 'grantvm-runner-elsewhere'));
      return line(ts, 50_000).finally(() => {
        cwd.mockRestore();
      });
    };
    const other = await elsewhere();
    expect(other).toMatch(/^\d+ 1$/);
    expect(other).not.toBe(limited);
    // Two are kept, the last used: the first directory's worker serves it again; a third evicts the oldest.
    expect(await line(ts, 50_000)).toBe(limited);
    expect(await line(ts)).not.toBe(limited);
    expect(await elsewhere()).not.toBe(other);
  });
});
