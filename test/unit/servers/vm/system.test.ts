// Whole-system tests of the VM server through createSystem (kernel, PM, VM, init, stand-ins).
import { describe, expect, it } from 'vitest';
import { NR_VM_CALLS, VM_BRK, VM_PUSH_SIG, VM_RQ_BASE } from '../../../../src/include/com.ts';
import { ENOMEM, ENOSYS, OK, SIGSEGV } from '../../../../src/include/errno.ts';
import { NONE, PM_PROC_NR, VM_PROC_NR } from '../../../../src/include/endpoint.ts';
import { MAP_ANON, MAP_PREALLOC, VM_PROCSTART, VM_STACKTOP } from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { vmMmap, vmMunmap } from '../../../../src/libsys/vm.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { System } from '../../../../src/sim/system.ts';
import { doNotifySig, doQueryExit } from '../../../../src/servers/vm/main.ts';
import { PAGE_SIZE } from '../../../../src/lib/units.ts';
import { fakeVmProc, unitVm } from './helpers.ts';

const PAGE = PAGE_SIZE;
const HEAP = VM_PROCSTART + 4 * PAGE;

async function boot(ramMiB = 16): Promise<System> {
  const sys = await createSystem({ sanity: 'functions', ramBytes: ramMiB * 1024 * 1024, nrProcs: 32 });
  sys.vm.setMachineView({ tlbEntries: (slot) => sys.kernel.procAt(slot).tlb.entries(), step: () => sys.kernel.step });
  sys.vm.sanityCheck();
  return sys;
}

const faultsOf = (sys: System, ep: number | null): number => sys.trace.filter((e) => e.kind === 'fault' && e.ep === ep).length;

describe('VM in a running system', () => {
  it('§11.8 every directory has PDE 0 and PDE 1; touching 0x18FFFFFF or 0xFFFFF000 → SIGSEGV', async () => {
    const sys = await boot();
    for (const p of sys.vm.processes()) {
      if (!p.hasPageTable) continue;
      expect(sys.mem.pteRead(p.dirFrame, 0)).toBe((PTE.P | PTE.W | 0x80 | PTE.G) >>> 0);
      expect(sys.mem.pteRead(p.dirFrame, 1)).toBe((sys.vm.pagedirsFrame * PAGE + PTE.P + PTE.W) >>> 0);
    }
    const a = sys.spawn(async (p) => p.readU8(0x18ffffff));
    const b = sys.spawn(async (p) => p.readU8(0xfffff000));
    await sys.run();
    expect(a.exit).toEqual({ code: 0, signal: SIGSEGV });
    expect(b.exit).toEqual({ code: 0, signal: SIGSEGV });
    sys.sanityCheck();
  });

  it('§11.9 a slot keeps its directory frame across exit and reuse', async () => {
    const sys = await boot();
    let first = { slot: -1, dir: -1 };
    const a = sys.spawn(async (p) => {
      first = { slot: p.kp.slot, dir: p.kp.dirFrame };
    });
    await sys.run();
    expect(a.exit?.code).toBe(0);
    let second = { slot: -2, dir: -2 };
    sys.spawn(async (p) => {
      second = { slot: p.kp.slot, dir: p.kp.dirFrame };
    });
    await sys.run();
    expect(second.slot).toBe(first.slot);
    expect(second.dir).toBe(first.dir);
    expect(sys.vm.slotDirectory(first.slot)).toBe(first.dir);
  });

  it('§11.10 the first read of an untouched page faults once and reads zero; the second does not fault', async () => {
    const sys = await boot();
    const v = VM_STACKTOP - 100 * PAGE;
    const h = sys.spawn(async (p) => {
      const x = await p.readU32(v);
      const y = await p.readU32(v + 8);
      return x === 0 && y === 0 ? 0 : 1;
    });
    await sys.run();
    expect(h.exit?.code).toBe(0);
    expect(sys.trace.filter((e) => e.kind === 'fault' && e.vaddr === v).length).toBe(1);
    expect(faultsOf(sys, h.endpoint)).toBe(1);
  });

  it('§11.11 mutation: a PTE downgraded without a TLB flush makes F22 fail', async () => {
    const sys = await boot();
    let ep = -1;
    sys.spawn(async (p) => {
      ep = p.endpoint;
      await p.writeU32(HEAP, 1);
      await p.sleep(10);
    });
    await sys.run({ until: () => ep > 0 && sys.kernel.liveProc(ep)?.tlb.entries().some((e) => e.writable) === true });
    sys.sanityCheck();
    const slot = sys.kernel.liveProc(ep)?.slot ?? -1;
    const vm = sys.vm.internals;
    const vmp = vm.procs[slot];
    if (vmp === undefined) throw new Error('no vmproc');
    const table = vmp.pt.tables[HEAP >>> 22] ?? 0;
    const idx = (HEAP >>> 12) & 0x3ff;
    sys.mem.pteWrite(table, idx, sys.mem.pteRead(table, idx) & ~PTE.W);
    expect(() => sys.sanityCheck()).toThrow(/VM sanity F22/);
    sys.kernel.liveProc(ep)?.tlb.flush();
    sys.sanityCheck();
  });

  it('§11.17 ENOMEM during a fault → SIGSEGV; §11.43/§11.21 mmap through libsys', async () => {
    const sys = await boot();
    let addr = 0;
    const h = sys.spawn(async (p) => {
      addr = await vmMmap(p, 0, 2 * PAGE, MAP_ANON);
      const pre = await vmMmap(p, 0, 2 * PAGE, MAP_ANON | MAP_PREALLOC);
      if (pre !== addr + 2 * PAGE) return 2;
      if ((await vmMunmap(p, pre, 2 * PAGE)) !== OK) return 3;
      sys.vm.failAfter(1);
      await p.writeU32(addr, 1);
      return 0;
    });
    await sys.run();
    sys.vm.failAfter(null);
    expect(addr).toBe(VM_STACKTOP);
    expect(h.exit).toEqual({ code: 0, signal: SIGSEGV });
    sys.sanityCheck();
  });

  it('§11.41 a call outside the mask, an unknown call and PUSH_SIG → ENOSYS', async () => {
    const sys = await boot();
    const got: number[] = [];
    sys.spawn(async (p) => {
      for (const type of [VM_BRK, VM_PUSH_SIG, VM_RQ_BASE + NR_VM_CALLS + 3, VM_RQ_BASE - 1]) got.push((await p.sendrec(VM_PROC_NR, { type })).type);
    });
    await sys.run();
    expect(got).toEqual([ENOSYS, ENOSYS, ENOSYS, ENOSYS]);
  });

  it('§11.12–13 fork and COW through PM: the child breaks COW, the parent keeps its data', async () => {
    const sys = await boot();
    const h = sys.spawn(async (p) => {
      await p.write(HEAP, new Uint8Array(PAGE).fill(3));
      const child = await p.fork(async (c) => {
        await c.writeU8(HEAP, 9);
        return (await c.readU8(HEAP + 1)) === 3 ? 0 : 1;
      });
      const w = await p.wait();
      if (w.endpoint !== child || w.code !== 0) return 2;
      return (await p.readU8(HEAP)) === 3 ? 0 : 3;
    });
    await sys.run();
    expect(h.exit).toEqual({ code: 0, signal: 0 });
    expect(sys.trace.some((e) => e.kind === 'vm' && e.op === 'cow-break')).toBe(true);
    sys.sanityCheck();
  });

  it('§11.27 exec through PM: text and data bytes loaded, the entry runs, the stack tops at VM_STACKTOP', async () => {
    const sys = await boot();
    const text = new TextEncoder().encode('text!');
    const data = new TextEncoder().encode('data!');
    let seen = '';
    const h = sys.spawn(
      async (p) => {
        seen = `${await p.readString(VM_PROCSTART, 5)}${await p.readString(VM_PROCSTART + 2 * PAGE, 5)}`;
        const regs = sys.vm.regions(p.endpoint);
        return regs[regs.length - 1]?.vaddr === VM_STACKTOP - (regs[regs.length - 1]?.length ?? 0) ? 0 : 1;
      },
      { image: { text: 2 * PAGE, data: 100, bss: 0, textBytes: text, dataBytes: data } },
    );
    await sys.run();
    expect(h.exit).toEqual({ code: 0, signal: 0 });
    expect(seen).toBe('text!data!');
  });

  it('§11.30 after a workload exits the free count is back, less new directories and slab growth', async () => {
    const sys = await boot(32);
    const free0 = sys.vm.freePages();
    const slab0 = sys.vm.slabStats().pages;
    const dirs0 = sys.vm.processes().length;
    const dirCount = (): number => Array.from({ length: 32 }, (_, s) => sys.vm.slotDirectory(s)).filter((d) => d !== 0).length;
    const d0 = dirCount();
    for (let i = 0; i < 4; i++) {
      sys.spawn(async (p) => {
        const a = await vmMmap(p, 0, 5 * PAGE, MAP_ANON | MAP_PREALLOC);
        await p.write(a, new Uint8Array(3 * PAGE).fill(i));
        await p.writeU32(HEAP + PAGE, i);
        await p.fork(async (c) => {
          await c.writeU32(a, 7);
          await vmMunmap(c, a + PAGE, PAGE);
        });
        await p.wait();
        await p.brk(HEAP + 40 * PAGE);
        await p.writeU32(HEAP + 30 * PAGE, 1);
      });
    }
    await sys.run();
    expect(sys.vm.processes().length).toBe(dirs0);
    expect(sys.vm.freePages()).toBe(free0 - (dirCount() - d0) - (sys.vm.slabStats().pages - slab0));
    sys.sanityCheck();
  });
});

describe('NOTIFY_SIG / QUERY_EXIT (§11.42)', () => {
  it('returns the lowest-indexed entry; empty → NONE, isMore 0; full table → ENOMEM', async () => {
    const u = unitVm();
    const m = (endpoint: number) => ({ type: 0, source: PM_PROC_NR, endpoint, ipcEndpoint: 0 });
    expect(doQueryExit(u.vm)).toEqual({ result: OK, endpoint: NONE, isMore: 0 });
    for (let i = 0; i < 16; i++) expect(await doNotifySig(u.vm, fakeVmProc, m(100 + i))).toBe(OK);
    expect(await doNotifySig(u.vm, fakeVmProc, m(100))).toBe(OK);
    expect(await doNotifySig(u.vm, fakeVmProc, m(200))).toBe(ENOMEM);
    expect(doQueryExit(u.vm)).toEqual({ result: OK, endpoint: 100, isMore: 1 });
    expect(await doNotifySig(u.vm, fakeVmProc, m(50))).toBe(OK);
    expect(doQueryExit(u.vm)).toEqual({ result: OK, endpoint: 50, isMore: 1 });
  });
});
