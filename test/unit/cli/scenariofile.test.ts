import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scenariosOfModule } from '../../../src/cli/scenariofile.ts';
import { replayCommand } from '../../../src/cli/commands/run.ts';
import { failureDiagnosis } from '../../../src/cli/diagnosis.ts';
import { UsageError } from '../../../src/cli/options.ts';
import type { TraceEvent } from '../../../src/include/trace.ts';
import { cliHost } from '../../helpers/cli-host.ts';

// The command lines run in one host process, as in a process of their own but without a Node start each.
const host = cliHost();
const grantvm = (...args: string[]) => host.grantvm(args);
// The scenario files are TypeScript, which the host's kept scenario worker loads afresh for each command, but one
// JavaScript file, run last: Node keeps a .mjs module for the worker's life, so the command after one starts a new
// worker (src/cli/worker.ts, pristine), about a second of CPU.

let dir = '';
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'grantvm-scenariofile-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('grantvm run FILE', () => {
  it('runs examples/grantor-requestor.ts and passes', async () => {
    const r = await grantvm('run', 'examples/grantor-requestor.ts', '-v');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('grantor-requestor');
    expect(r.stdout).toMatch(/PASS requestor: every byte arrived/);
    expect(r.stdout).toMatch(/\b12 passed, 0 failed/);
  });

  it('inspect FILE dumps the state after its scenario; a scenario that throws is one line and exit status 1', async () => {
    const ok = await grantvm('inspect', 'examples/grantor-requestor.ts', '--at', '150');
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^step 150,/);
    expect(ok.stdout).toMatch(/grantor \(\d+\)/);
    const f = file(
      'throws.ts',
      "export const scenario = { name: 'boom', title: 't', async run() { throw new Error('my scenario is broken'); } };\n",
    );
    const r = await grantvm('inspect', f);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe("grantvm: 'boom' stopped: my scenario is broken");
  });

  it('a module without `scenario` is one usage line and exit status 2', async () => {
    const none = file('none.ts', 'export const nothing = 1;\n');
    const bad = file('bad.ts', "export const scenario = { name: 'x', title: 't' };\n");
    for (const f of [none, bad]) {
      const r = await grantvm('run', f);
      expect(r.status, f).toBe(2);
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toContain(f);
      expect(r.stderr).toContain("must export 'scenario'");
      expect(r.stdout).toBe('');
    }
    const missing = await grantvm('run', join(dir, 'no-such-file.ts'));
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('a failing check exits 1 and prints the seed and the replay command', async () => {
    const f = file(
      'fails.ts',
      `export const scenarios = [{
        name: 'fails', title: 'a check that fails',
        async run(sys, out) { out.check('one and one make three', 1 + 1 === 3); },
      }];\n`,
    );
    const r = await grantvm('run', f, '--seed', '42');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL one and one make three');
    expect(r.stdout).toContain('failed with seed 42');
    expect(r.stdout).toContain(`grantvm run ${f} --seed 42`);
    expect(r.stdout).toMatch(/0 passed, 1 failed/);
  });

  it('after a kill, the report names the process, the failed calls and their errors', async () => {
    const f = file(
      'kill.ts',
      `export const scenario = {
        name: 'kill', title: 'a process makes a call it may not make, then touches unmapped memory',
        async run(sys, out) {
          const h = sys.spawn(async (p) => { await p.sys.safecopyFrom(5, 3, 0, 0x19000000, 16); await p.readU32(0x7000); return 0; }, { name: 'victim' });
          await sys.run();
          out.check('victim exited with status 0', h.exit?.signal === 0, JSON.stringify(h.exit));
        },
      };\n`,
    );
    const r = await grantvm('run', f, '--seed', '7');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('failed with seed 7');
    expect(r.stdout).toMatch(/victim \(\d+\) killed by SIGSEGV/);
    expect(r.stdout).toMatch(/victim \(\d+\) SYS_SAFECOPYFROM → ECALLDENIED/);
  });

  it('run --list FILE lists the scenarios of that file', async () => {
    const f = file(
      'two.mjs',
      `const run = async (sys, out) => { out.check('ok', true); };
      export const scenarios = [{ name: 'first-one', title: 'the first', run }, { name: 'second-one', title: 'the second', run }];\n`,
    );
    const r = await grantvm('run', '--list', f);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/first-one\s+the first/);
    expect(r.stdout).toMatch(/second-one\s+the second/);
    expect(r.stdout).not.toContain('vm-demo');
  });
});

describe('scenario modules and failure reports', () => {
  const ok = { name: 'a', title: 'A', run: () => Promise.resolve() };

  it('accepts `scenario` and `scenarios`, rejects anything else with a UsageError', () => {
    expect(scenariosOfModule('f.ts', { scenario: ok })).toEqual([ok]);
    expect(scenariosOfModule('f.ts', { scenarios: [ok, { ...ok, name: 'b' }] })).toHaveLength(2);
    for (const m of [
      {},
      { default: ok },
      { scenario: { ...ok, run: 1 } },
      { scenarios: ok },
      { scenarios: [] },
      { scenario: { ...ok, name: '' } },
      { scenario: { ...ok, config: 3 } },
    ]) {
      expect(() => scenariosOfModule('f.ts', m), JSON.stringify(m)).toThrow(UsageError);
    }
  });

  it('replays with the options that change the run', () => {
    expect(replayCommand('x.ts', 3, { memory: 1 << 25, cow: false, schedule: 'random' })).toBe(
      'grantvm run x.ts --seed 3 --memory 33554432 --no-cow --schedule random',
    );
    expect(replayCommand('my file.ts', 1, {})).toBe("grantvm run 'my file.ts' --seed 1");
  });

  it('lists nothing without a panic or a kill; else the panics, kills and the last failed calls', () => {
    const calls: TraceEvent[] = [
      { step: 1, kind: 'proc', op: 'start', ep: 100, name: 'req' },
      { step: 2, kind: 'kcall', caller: 100, call: 'SYS_SAFECOPYFROM', result: -1 },
      { step: 3, kind: 'grant', op: 'safecopyfrom', caller: 100, granter: 101, gid: 4, result: -22 },
      { step: 4, kind: 'kcall', caller: 100, call: 'SYS_UMAP', result: 0 },
      { step: 5, kind: 'vm', op: 'mmap', ep: 100, result: 0x1000 },
    ];
    expect(failureDiagnosis(calls)).toEqual([]);
    const lines = failureDiagnosis(
      [
        ...calls,
        { step: 6, kind: 'panic', message: 'boom' },
        { step: 7, kind: 'proc', op: 'kill', ep: 100, name: 'req', status: 6 },
      ],
      1,
    );
    expect(lines[0]).toBe('step 6: panic: boom');
    expect(lines[1]).toBe('step 7: req (100) killed by SIGABRT');
    expect(lines.slice(3)).toEqual(['  step 3: req (100) safecopyfrom of grant 4 of ? (101) → EINVAL']);
  });
});
