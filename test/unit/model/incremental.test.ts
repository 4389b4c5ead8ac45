// The model tester's checking schedule (executor.ts fullEvery): VM's full check on the first check, every
// fullEvery-th and at the end of a run, its incremental check in between; a corruption VM never goes near is
// caught by the next full check, by its rule.
import { describe, expect, it } from 'vitest';
import { PTE } from '../../../src/hw/mmu.ts';
import { ptReadPte, ptWriteRun } from '../../../src/servers/vm/pagetable.ts';
import { generateCommands } from '../../../src/sim/model/commands.ts';
import { runModel } from '../../../src/sim/model/executor.ts';
import type { System } from '../../../src/sim/system.ts';

// The first command enters the kernel (a DS publish of a memory range), so the run's first check, which is full,
// comes before the corruption planted after it.
const commands = generateCommands(3, 4);

/** Points the PTE of pfs's first text page (a process the commands never involve) at another frame (F20). */
function corruptPfs(sys: System): void {
  const vm = sys.vm.internals;
  const pfs = vm.procs.find((p) => p.name === 'pfs');
  const text = pfs?.regions[0];
  if (pfs === undefined || text === undefined) throw new Error('no pfs text');
  const pte = ptReadPte(vm.mem, pfs.pt, text.vaddr);
  ptWriteRun(vm.mem, pfs.pt, text.vaddr, (pte >>> 12) + 100, 1, PTE.P | PTE.U);
}

describe('model tester: incremental checking', () => {
  it('counts the checks by kind: one full check every fullEvery, the first and the last too', async () => {
    const r = await runModel(commands, { fullEvery: 8 });
    expect(r.violation).toBeNull();
    const k = r.checksByKind;
    expect(k.incremental).toBeGreaterThan(0);
    expect(k.full).toBeGreaterThanOrEqual(Math.floor(r.checks / 8) + 1);
    expect(k.full).toBeLessThanOrEqual(Math.ceil(r.checks / 8) + 2);
    expect(k.full + k.incremental).toBeLessThanOrEqual(r.checks);
    expect([k.grant, k.ds]).toEqual([r.checks, r.checks]);
    const always = await runModel(commands, { fullEvery: 1 });
    expect(always.checks).toBe(r.checks);
    expect(always.checksByKind.incremental).toBe(0);
    expect(always.checksByKind.full).toBe(k.full + k.incremental);
  });

  it('a corruption the incremental checks do not visit is reported by the full check at the end of the run', async () => {
    const afterCommand = (sys: System, _a: unknown, index: number): void => {
      if (index === 0) corruptPfs(sys);
    };
    const late = await runModel(commands, { fullEvery: 1_000_000, afterCommand });
    expect(late.violation?.index).toBe(commands.length);
    expect(late.violation?.message).toMatch(/VM sanity F20: slot 9 /);
    const early = await runModel(commands, { fullEvery: 1, afterCommand });
    expect(early.violation?.index).toBe(1);
    expect(early.violation?.message).toMatch(/VM sanity F20: slot 9 /);
  });
});
