import { describe, expect, it } from 'vitest';
import { grantvm as cli } from '../../helpers/cli.ts';
import { cliHost } from '../../helpers/cli-host.ts';

// The command lines run in one host process (as in a process of their own, without a Node start each); the
// colour test below needs an environment of its own, so it starts a real process.
const host = cliHost();
const grantvm = (...args: string[]) => host.grantvm(args);

describe('grantvm CLI', () => {
  it('bad options give one clear line and exit status 2, never a stack trace', async () => {
    for (const args of [
      ['run', '--memory', 'lots'],
      ['run', '--seed', 'x'],
      ['run', 'no-such-scenario'],
      ['run', '--memory', '3M'],
      ['run', '--cow-break', 'bytes'],
      ['frobnicate'],
    ]) {
      const r = await grantvm(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr.trim().length).toBeGreaterThan(0);
    }
  });

  it('run --list names the built-in scenarios', async () => {
    const r = await grantvm('run', '--list');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/boot/);
    expect(r.stdout).toMatch(/vm-demo/);
  });

  it('run boot passes and prints the summary line', async () => {
    const r = await grantvm('run', 'boot', '--seed', '5', '--memory', '32M');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\d+ passed, 0 failed/);
  });

  it('inspect prints the process table and the memory map', async () => {
    const r = await grantvm('inspect');
    expect(r.status).toBe(0);
    for (const s of [
      'Process table',
      'Privileges',
      'Physical memory',
      'COW-shared',
      'free range',
      'Regions',
      'mapped',
      'writable',
      'Frame map',
      'Statistics',
      'pm',
      'vm',
      'init',
    ])
      expect(r.stdout).toContain(s);
  });

  it('inspect --at STEP dumps the state at that kernel step of the scenario, in text and JSON', async () => {
    const text = await grantvm('inspect', 'vm-demo', '--at', '100');
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^step 100,/);
    expect(text.stdout).toMatch(/kernel steps\s+100\n/);
    const json = await grantvm('inspect', 'vm-demo', '--at', '100', '--json');
    expect(json.status).toBe(0);
    const snap = JSON.parse(json.stdout) as {
      step: number;
      stats: { steps: number };
      processes: { name: string }[];
      frameMap: { frames: number }[];
      vm: { memory: { totalPages: number } };
    };
    expect(snap.step).toBe(100);
    expect(snap.stats.steps).toBe(100);
    expect(snap.processes.map((p) => p.name)).toContain('vm-demo'); // mid-run: the workload is alive
    expect(snap.frameMap.reduce((n, r) => n + r.frames, 0)).toBe(snap.vm.memory.totalPages);
  });

  it('inspect --at a step the run never reaches is one line and exit status 2', async () => {
    const r = await grantvm('inspect', 'boot', '--at', '1000000');
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/step 1000000 is past the end of the run: 'boot' ended at step \d+/);
  });
});

describe('grantvm output into a pipe', () => {
  it('has no colour codes, even under CI=1 (picocolors would guess colours there)', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: '1' };
    delete env.NO_COLOR;
    delete env.FORCE_COLOR;
    const r = cli(['run', 'boot'], { env });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(r.stdout).not.toContain('\u001b[');
  });
});
