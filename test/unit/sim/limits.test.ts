// The runaway guards of the core: SystemConfig.stepLimit stops a run with a StepLimitError naming the running
// process, SystemConfig.watch sees every entry and switch without changing the run, and a scenario's result
// names the user programs left blocked forever on the idle system.
import { describe, expect, it } from 'vitest';
import { createSystem, StepLimitError } from '../../../src/sim/system.ts';
import { runScenario } from '../../../src/sim/scenario.ts';
import type { Scenario } from '../../../src/sim/scenario.ts';
import { findScenario } from '../../../src/sim/scenarios.ts';
import { ANY } from '../../../src/include/endpoint.ts';

const loops: Scenario = {
  name: 'loops',
  title: 'a program that calls getpid forever',
  async run(sys, out) {
    sys.spawn(
      async (p) => {
        for (;;) await p.getpid();
      },
      { name: 'looper' },
    );
    await sys.run();
    out.check('never here', false);
  },
};

describe('SystemConfig.stepLimit', () => {
  it('stops a program that loops in the kernel at exactly the limit, naming who ran', async () => {
    const r = await runScenario(loops, { stepLimit: 3000, sanity: 'off' });
    expect(r.steps).toBe(3000);
    expect(r.checks).toEqual([]);
    expect(r.error).toMatch(
      /^stopped at the kernel step limit, step 3000, running (looper|pm) \(endpoint \d+\)$/,
    );
  });

  it('throws a StepLimitError from run(), and keeps throwing: the system stays stopped', async () => {
    const sys = await createSystem({ stepLimit: 40 });
    sys.spawn(async (p) => {
      for (;;) await p.getpid();
    });
    await expect(sys.run()).rejects.toBeInstanceOf(StepLimitError);
    await expect(sys.run({ maxSteps: 1 })).rejects.toThrow(/step 40/);
    expect(sys.kernel.step).toBe(40);
  });

  it('lets a run that fits finish with the same trace as without a limit', async () => {
    const vmDemo = findScenario('vm-demo');
    if (vmDemo === undefined) throw new Error('no vm-demo');
    const free = await runScenario(vmDemo);
    const capped = await runScenario(vmDemo, { stepLimit: free.steps + 1 });
    expect(capped.error).toBeNull();
    expect(capped.traceHash).toBe(free.traceHash);
    expect((await runScenario(vmDemo, { stepLimit: free.steps - 1 })).error).toMatch(/step limit/);
  });

  it('is a config problem when it is not a positive integer', async () => {
    await expect(createSystem({ stepLimit: 0 })).rejects.toThrow(/stepLimit/);
  });
});

describe('SystemConfig.watch', () => {
  it('sees every kernel entry and every switch, and changes nothing', async () => {
    const boot = findScenario('boot');
    if (boot === undefined) throw new Error('no boot');
    const seen: (string | null)[] = [];
    let last = 0;
    const watched = await runScenario(boot, {
      watch: (step, p) => {
        last = step;
        seen.push(p?.name ?? null);
      },
    });
    const plain = await runScenario(boot);
    expect(watched.traceHash).toBe(plain.traceHash);
    expect(last).toBe(plain.steps);
    expect(seen).toContain('vm');
    expect(seen.at(-1)).toBeNull(); // the host has the CPU back at the end
  });
});

describe('ScenarioResult.blocked', () => {
  it('names a user program left waiting forever, and none when all ended', async () => {
    const waits: Scenario = {
      name: 'waits',
      title: 'a program receives from anyone, and no one sends',
      async run(sys, out) {
        sys.spawn(
          async (p) => {
            await p.receive(ANY);
            return 0;
          },
          { name: 'waiter' },
        );
        await sys.run();
        out.check('ran', true);
      },
    };
    const r = await runScenario(waits);
    expect(r.blocked).toHaveLength(1);
    expect(r.blocked[0]).toMatch(/^waiter \(endpoint \d+\) waits in RECEIVING receiving from ANY$/);
    const boot = findScenario('boot');
    if (boot === undefined) throw new Error('no boot');
    expect((await runScenario(boot)).blocked).toEqual([]);
  });
});
