// A process's own accesses through its page table on a booted system (src/kernel/memory.ts userAccess and the
// page-fault path), written for memory.ts's mutation pass: an access that faults on each of its pages resumes
// where it stopped and writes no further, each fault is counted and traced once, and an access past 2^32 ends
// the process with SIGSEGV.
import { describe, expect, it } from 'vitest';
import { OK, SIGSEGV } from '../../../src/include/errno.ts';
import { MAP_ANON, MAP_PRIVATE } from '../../../src/include/vm.ts';
import { ADDRESS_SPACE_BYTES, MiB } from '../../../src/lib/units.ts';
import { vmMmap } from '../../../src/libsys/vm.ts';
import { drivenActor } from '../../../src/sim/driven.ts';
import { createSystem } from '../../../src/sim/system.ts';
import { pattern, PAGE } from '../../helpers/bytes.ts';

describe("a process's own accesses through its page table", () => {
  it('a write over untouched pages faults once per page and resumes where it stopped, and writes no further', async () => {
    const sys = await createSystem({ sanity: 'off', trace: 'memory', ramBytes: 16 * MiB });
    const a = await drivenActor(sys, 'A', { spawn: { image: { data: 2 * PAGE } } });
    const at = await a.do((p) => vmMmap(p, 0, 3 * PAGE, MAP_ANON | MAP_PRIVATE));
    const bytes = pattern(2 * PAGE + 50, 3);
    const after = pattern(16, 9);
    const faults = sys.kernel.counts.pageFaults;
    const mark = sys.trace.length;
    await a.do((p) => p.write(at + 2 * PAGE + 150, after));
    await a.do((p) => p.write(at + 100, bytes));
    expect(sys.kernel.counts.pageFaults - faults).toBe(3);
    const seen = sys.trace
      .slice(mark)
      .flatMap((e) => (e.kind === 'fault' ? [[e.ep, e.vaddr, e.write, e.present]] : []));
    expect(seen).toEqual([
      [a.ep, at + 2 * PAGE + 150, true, false],
      [a.ep, at + 100, true, false],
      [a.ep, at + PAGE, true, false],
    ]);
    expect(await a.do((p) => p.read(at + 100, bytes.length))).toEqual(bytes);
    expect(await a.do((p) => p.read(at + 2 * PAGE + 150, 16))).toEqual(after);
    expect(await a.do((p) => p.read(at, 100))).toEqual(new Uint8Array(100));
    expect(sys.kernel.counts.pageFaults - faults).toBe(3);
  });

  it('an access past 2^32 ends the process with SIGSEGV, with no fault', async () => {
    const sys = await createSystem({ sanity: 'off', trace: null, ramBytes: 16 * MiB });
    const a = await drivenActor(sys, 'A', { spawn: { image: { data: 2 * PAGE } } });
    const faults = sys.kernel.counts.pageFaults;
    const done = a.start(async (p) => {
      await p.read(ADDRESS_SPACE_BYTES - 2, 4);
      return OK;
    });
    await sys.run();
    expect([done.done(), a.kp.inUse, a.kp.exitStatus]).toEqual([false, false, SIGSEGV]);
    expect(sys.kernel.counts.pageFaults).toBe(faults);
  });
});
