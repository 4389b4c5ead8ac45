// Edge cases of VM's boot (src/servers/vm/boot.ts) and of the helpers of glo.ts, through createVm with crafted boot
// memory maps: what stays reserved (page 0, the kernel, images of processes without page tables, the memory hole),
// how a full-VM image is adopted (text, data, demand-zero heap and stack), the boot checks, call masks and spares;
// endpoint lookup, fault injection, trace stamping and change tracking.
import { describe, expect, it } from 'vitest';
import {
  NR_VM_CALLS,
  SYS_VMCTL,
  VMCTL_I386_PAGEDIRS,
  VMCTL_I386_SETCR3,
  VMCTL_VMINHIBIT_CLEAR,
} from '../../../../src/include/com.ts';
import { EINVAL, ENOMEM, OK } from '../../../../src/include/errno.ts';
import { NONE, SYSTEM, makeEndpoint } from '../../../../src/include/endpoint.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import { MAP_ANON, VM_PROCSTART, VM_STACKTOP, VRT_HEAP, VRT_NONE } from '../../../../src/include/vm.ts';
import type { BootProcImage, VmBootInfo } from '../../../../src/include/vm.ts';
import { PhysMem } from '../../../../src/hw/physmem.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { KiB, MiB } from '../../../../src/lib/units.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { bootKernelCalls, callMaskOf, refillSpares } from '../../../../src/servers/vm/boot.ts';
import type { VmConfig } from '../../../../src/servers/vm/glo.ts';
import {
  VMF_HASPT,
  VMF_INUSE,
  injectFail,
  markDirty,
  touch,
  vmTrace,
  vmpOf,
} from '../../../../src/servers/vm/glo.ts';
import { createVm, doNotifySig, doQueryExit } from '../../../../src/servers/vm/main.ts';
import { mmapRegion } from '../../../../src/servers/vm/mmap.ts';
import { PAGE, fakeVmProc } from './helpers.ts';

const image = (o: Partial<BootProcImage> & { slot: number }): BootProcImage => ({
  endpoint: makeEndpoint(0, o.slot),
  name: `p${o.slot}`,
  fullVm: true,
  base: 0x40000,
  textPages: 2,
  dataPages: 3,
  stackPages: 1,
  vmCalls: 'all',
  ...o,
});

function boot(
  procs: BootProcImage[],
  o: {
    ramBytes?: number;
    memBytes?: number;
    kernelBytes?: number;
    kernelBase?: number;
    config?: Partial<VmConfig>;
    nrProcs?: number;
  } = {},
) {
  const ramBytes = o.ramBytes ?? 8 * MiB;
  const mem = new PhysMem(o.memBytes ?? ramBytes);
  const info: VmBootInfo = {
    ramBytes,
    kernelBase: o.kernelBase ?? 0x1000,
    kernelBytes: o.kernelBytes ?? 64 * KiB,
    procs,
    nrProcs: o.nrProcs ?? 8,
  };
  const { state } = createVm(
    { sanity: 'functions', nrProcs: 8, sparePages: 4, ...o.config },
    info,
    mem,
    null,
  );
  return { state, vm: state.internals, mem };
}

describe('VM boot: the memory map', () => {
  it('page 0, the kernel, a non-full-VM image and the hole stay reserved; everything else but full-VM images is free', () => {
    const { state, vm } = boot([
      image({ slot: 1, fullVm: false, base: 0x30000, textPages: 1, dataPages: 1, stackPages: 1 }),
    ]);
    const free = (p: number): boolean => vm.alloc.isFree(p) || vm.spares.includes(p);
    const reserved = [0, 1, 16, 0x30, 0x31, 0x32, 160, 255];
    expect(reserved.map(free)).toEqual(reserved.map(() => false));
    expect([17, 0x2f, 0x33, 159, 256].map(free)).toEqual([true, true, true, true, true]);
    expect(vm.reserved).toEqual([
      { page: 0, pages: 1 },
      { page: 1, pages: 16 },
      { page: 0x30, pages: 3 },
      { page: 160, pages: 96 },
    ]);
    expect(state.totalPages).toBe(2048);
    state.sanityCheck();
  });

  it('RAM smaller than the memory: only ramBytes is managed; a hole cut short by RAM; no kernel image', () => {
    const { state, vm } = boot([], { ramBytes: 800 * KiB, memBytes: 2 * MiB, kernelBytes: 0 });
    expect(vm.nPages).toBe(200);
    expect(vm.reserved).toEqual([
      { page: 0, pages: 1 },
      { page: 160, pages: 40 },
    ]);
    expect(vm.alloc.ranges()[0]?.addr).toBe(1);
    state.sanityCheck();
  });

  it('a full-VM image is adopted in place: text and data by reference, a demand-zero stack whose pages are freed', () => {
    const { state, vm, mem } = boot([image({ slot: 2 })]);
    const ep = makeEndpoint(0, 2);
    const regions = state.regions(ep);
    expect(
      regions.map((r) => [r.vaddr, r.length / PAGE, r.tag, r.refs.map((x) => [x.phys, x.length / PAGE])]),
    ).toEqual([
      [VM_PROCSTART, 2, VRT_NONE, [[0x40000, 2]]],
      [VM_PROCSTART + 2 * PAGE, 3, VRT_HEAP, [[0x42000, 3]]],
      [VM_STACKTOP - PAGE, 1, VRT_NONE, []],
    ]);
    expect(vm.alloc.isFree(0x45) || vm.spares.includes(0x45)).toBe(true);
    const vmp = vm.procs[2];
    expect([vmp?.flags, vmp?.name, vmp?.heap?.vaddr]).toEqual([
      VMF_INUSE | VMF_HASPT,
      'p2',
      VM_PROCSTART + 2 * PAGE,
    ]);
    expect(mem.pteRead(vm.pagedirs, 2)).toBe((vmp?.pt.dir ?? 0) * PAGE + PTE.P + PTE.W);
    state.sanityCheck();
  });

  it('no text: no text region; no data: a one-page zeroed heap; no stack pages: a one-page stack, nothing freed', () => {
    const { state } = boot([image({ slot: 3, textPages: 0, dataPages: 0, stackPages: 0 })]);
    const regions = state.regions(makeEndpoint(0, 3));
    expect(regions.map((r) => [r.vaddr, r.length / PAGE, r.tag, r.refs.length])).toEqual([
      [VM_PROCSTART, 1, VRT_HEAP, 1],
      [VM_STACKTOP - PAGE, 1, VRT_NONE, 0],
    ]);
    state.sanityCheck();
  });

  it('a process without page tables gets its slot, name, endpoint and call mask only', () => {
    const { vm } = boot([image({ slot: 4, fullVm: false, base: 0x30000, vmCalls: [2, 3] })]);
    const vmp = vm.procs[4];
    expect([vmp?.flags, vmp?.name, vmp?.endpoint, vmp?.regions.length, vmp?.pt.dir]).toEqual([
      VMF_INUSE,
      'p4',
      makeEndpoint(0, 4),
      0,
      0,
    ]);
    expect([...(vmp?.callMask ?? [])].flatMap((b, i) => (b === 1 ? [i] : []))).toEqual([2, 3]);
  });

  it('refuses a bad boot map: process table sizes, the kernel over the hole, stray or overlapping images, a slot twice', () => {
    expect(() => boot([], { nrProcs: 9 })).toThrow(/nrProcs 9 \/ 8/);
    expect(() => boot([], { kernelBytes: 0xa0000 })).toThrow(/kernel must end below the memory hole/);
    expect(() => boot([image({ slot: 1, fullVm: false, base: 0x30800 })])).toThrow(
      /image of p1 must lie page-aligned below 4 MiB/,
    );
    expect(() => boot([image({ slot: 1, fullVm: false, base: 4 * MiB - PAGE })])).toThrow(/below 4 MiB/);
    expect(() =>
      boot([
        image({
          slot: 1,
          fullVm: false,
          base: 4 * MiB - 3 * PAGE,
          textPages: 1,
          dataPages: 1,
          stackPages: 1,
        }),
      ]),
    ).not.toThrow();
    expect(() => boot([image({ slot: 1 }), image({ slot: 2, base: 0x45000 })])).toThrow(
      /overlap each other, the kernel or the memory hole at page 69/,
    );
    expect(() => boot([image({ slot: 1, base: 0x9f000 })])).toThrow(/overlap/);
    expect(() => boot([image({ slot: 1 }), image({ slot: 1, base: 0x60000 })])).toThrow(
      /bad or duplicate slot 1/,
    );
    expect(() => boot([image({ slot: 8 })])).toThrow(/bad or duplicate slot 8/);
    expect(() =>
      boot([image({ slot: 1, fullVm: false, base: 0x30000 })], {
        ramBytes: 0x31000 + 2 * PAGE,
        memBytes: 1 * MiB,
      }),
    ).toThrow(/reserved pages 48\+3 outside RAM|outside RAM/);
  });
});

describe('VM boot: limits and memory', () => {
  it('the pointer page is zeroed whatever RAM held; up to 1024 processes; no page for the pointer page panics', () => {
    const mem = new PhysMem(1 * MiB);
    mem.write(0, new Uint8Array(1 * MiB).fill(0xff), 0, 1 * MiB);
    const info = (ramBytes: number, procs: BootProcImage[], nrProcs = 8): VmBootInfo => ({
      ramBytes,
      kernelBase: 0x1000,
      kernelBytes: 0,
      procs,
      nrProcs,
    });
    const { state } = createVm({ sanity: 'functions', nrProcs: 8 }, info(1 * MiB, []), mem, null);
    const vm = state.internals;
    expect(Array.from({ length: 1024 }, (_, i) => mem.pteRead(vm.pagedirs, i)).every((e) => e === 0)).toBe(
      true,
    );
    expect(() => boot([], { nrProcs: 1024, config: { nrProcs: 1024 } })).not.toThrow();
    expect(() => boot([], { nrProcs: 1025, config: { nrProcs: 1025 } })).toThrow(/nrProcs 1025 \/ 1025/);
    expect(() => createVm({ nrProcs: 8 }, info(PAGE, []), new PhysMem(PAGE), null)).toThrow(
      /no page for the page-directory pointer page/,
    );
  });
});

describe('VM boot: call masks and spares', () => {
  it("callMaskOf: 'all' sets every call; a list sets its valid numbers only", () => {
    expect([...callMaskOf('all')]).toEqual(new Array<number>(NR_VM_CALLS).fill(1));
    const m = callMaskOf([0, 5, NR_VM_CALLS - 1, NR_VM_CALLS, -1, 2.5]);
    expect([...m].flatMap((b, i) => (b === 1 ? [i] : []))).toEqual([0, 5, NR_VM_CALLS - 1]);
  });

  it("the slab's first pages, the pointer page and the spares are no fallible allocations; injection never fails a refill", () => {
    // A boot without processes makes only those.
    const { vm, state } = boot([]);
    expect(state.allocCount).toBe(0);
    vm.alloc.freePages(vm.spares.pop() ?? 0, 1);
    state.failAfter(1);
    refillSpares(vm);
    expect([vm.spares.length, state.allocCount]).toEqual([4, 0]);
    state.failAfter(null);
  });

  it('refillSpares tops up to sparePages, and stops when the pool is empty', () => {
    const { vm } = boot([], { config: { sparePages: 6 } });
    expect(vm.spares.length).toBe(6);
    vm.alloc.freePages(vm.spares.pop() ?? 0, 1);
    const top = Math.max(...vm.alloc.ranges().map((r) => r.addr + r.size - 1));
    const free = vm.alloc.freeCount;
    refillSpares(vm);
    expect([vm.spares.length, vm.spares.at(-1), vm.alloc.freeCount]).toEqual([6, top, free - 1]);
    while (vm.alloc.allocPages(1, 0, false) !== 0) {
      /* drain */
    }
    vm.spares.length = 2;
    refillSpares(vm);
    expect(vm.spares.length).toBe(2);
  });
});

describe('VM globals (glo.ts)', () => {
  it('vmpOf finds a live endpoint only: not a number, not an integer, another generation or a free slot → null', () => {
    const { vm } = boot([image({ slot: 2 })]);
    const ep = makeEndpoint(0, 2);
    expect(vmpOf(vm, ep)).toBe(vm.procs[2]);
    expect([
      vmpOf(vm, String(ep)),
      vmpOf(vm, ep + 0.5),
      vmpOf(vm, makeEndpoint(1, 2)),
      vmpOf(vm, makeEndpoint(0, 3)),
      vmpOf(vm, makeEndpoint(0, 99)),
    ]).toEqual([null, null, null, null, null]);
    const p2 = vm.procs[2];
    if (p2 === undefined) throw new Error('no slot 2');
    p2.flags = 0;
    expect(vmpOf(vm, ep)).toBe(null);
  });

  it('injectFail counts every fallible allocation and fails exactly the failAt-th; 0 never fails', () => {
    const inject = { count: 5, failAt: 0 };
    expect([injectFail({ inject }), injectFail({ inject })]).toEqual([false, false]);
    expect(inject.count).toBe(7);
    inject.failAt = 9;
    expect([injectFail({ inject }), injectFail({ inject }), injectFail({ inject })]).toEqual([
      false,
      true,
      false,
    ]);
  });

  it('vmTrace stamps the machine step (0 without a view) and sends nothing without a sink; touch and markDirty track', () => {
    const { vm } = boot([image({ slot: 2 })]);
    const events: TraceEvent[] = [];
    vmTrace(vm, 'x', 1);
    vm.trace = (e) => events.push(e);
    vmTrace(vm, 'mmap', 5, { vaddr: 7, pages: 1, result: 0 });
    vm.view = { step: () => 42 };
    vmTrace(vm, 'brk', 6);
    vm.view = {};
    vmTrace(vm, 'exit', 7);
    expect(events).toEqual([
      { step: 0, kind: 'vm', op: 'mmap', ep: 5, vaddr: 7, pages: 1, result: 0 },
      { step: 42, kind: 'vm', op: 'brk', ep: 6 },
      { step: 0, kind: 'vm', op: 'exit', ep: 7 },
    ]);
    const p = vm.procs[2];
    if (p === undefined) throw new Error('no slot 2');
    vm.dirty.clear();
    vm.touched = null;
    touch(vm, p);
    markDirty(vm, p);
    expect(vm.dirty.has(p)).toBe(true);
    vm.dirty.clear();
    vm.touched = new Set();
    touch(vm, p);
    expect([vm.touched.has(p), vm.dirty.has(p)]).toEqual([true, false]);
    vm.touched.clear();
    markDirty(vm, p);
    expect([vm.touched.has(p), vm.dirty.has(p)]).toEqual([true, true]);
  });
});

describe('VM boot: edges of the memory map', () => {
  it('a kernel ending right at the hole, or in a partial page, is reserved to its last page', () => {
    const { vm } = boot([], { kernelBytes: 0xa0000 - 0x1000 });
    expect(vm.reserved.slice(0, 2)).toEqual([
      { page: 0, pages: 1 },
      { page: 1, pages: 159 },
    ]);
    expect(boot([], { kernelBytes: 64 * KiB + 1 }).vm.reserved[1]).toEqual({ page: 1, pages: 17 });
    // A kernel starting inside a page: its 16 pages' worth of bytes touch 17 pages.
    expect(boot([], { kernelBase: 0x1800 }).vm.reserved[1]).toEqual({ page: 1, pages: 17 });
  });

  it('RAM that is not a whole number of pages: the partial page is not managed', () => {
    const { state } = boot([], { ramBytes: 8 * MiB + 100, memBytes: 9 * MiB });
    expect(state.totalPages).toBe(2048);
    state.sanityCheck();
  });

  it('images of no pages reserve nothing and overlap nothing; RAM of exactly 640 KiB has no hole to reserve', () => {
    const { state, vm } = boot([
      image({ slot: 1, fullVm: false, base: 0x30800, textPages: 0, dataPages: 0, stackPages: 0 }),
      image({ slot: 2, base: 0x5000, textPages: 0, dataPages: 0, stackPages: 0 }),
    ]);
    expect(vm.reserved).toEqual([
      { page: 0, pages: 1 },
      { page: 1, pages: 16 },
      { page: 160, pages: 96 },
    ]);
    state.sanityCheck();
    const small = boot([], { ramBytes: 640 * KiB });
    expect(small.vm.reserved).toEqual([
      { page: 0, pages: 1 },
      { page: 1, pages: 16 },
    ]);
    small.state.sanityCheck();
  });

  it('too little RAM for a boot process: its page table or its first region panics', () => {
    const tiny = (pages: number) => () =>
      boot([image({ slot: 1, base: PAGE, textPages: 1, dataPages: 1, stackPages: 1 })], {
        ramBytes: pages * PAGE,
        kernelBytes: 0,
        config: { sparePages: 0 },
      });
    expect(tiny(6)).toThrow('VM boot: no memory for the page table of p1');
    expect(tiny(7)).toThrow(`VM boot: no memory for region 0x${VM_PROCSTART.toString(16)}`);
    expect(tiny(11)).not.toThrow();
    // One region per slab page: the heap's region, then the stack's, find no page.
    const onePerPage = (pages: number) => () =>
      boot([image({ slot: 1, base: PAGE, textPages: 1, dataPages: 1, stackPages: 1 })], {
        ramBytes: pages * PAGE,
        kernelBytes: 0,
        config: {
          sparePages: 0,
          slabObjectBytes: { region: 4000, physRegion: 24, physBlock: 24, avlNode: 20 },
        },
      });
    expect(onePerPage(11)).toThrow(`VM boot: no memory for region 0x${(VM_PROCSTART + PAGE).toString(16)}`);
    expect(onePerPage(12)).toThrow('VM boot: no memory for the stack of p1');
    expect(onePerPage(13)).not.toThrow();
  });
});

describe('VM boot: its own checks and pages', () => {
  it("VM's own checks of its slab are on at any sanity level but off", () => {
    for (const [sanity, guarded] of [
      ['functions', true],
      ['top', true],
      ['off', false],
    ] as const) {
      const { vm } = boot([image({ slot: 2 })], { config: { sanity } });
      const heap = vm.procs[2]?.heap;
      if (heap === null || heap === undefined) throw new Error('no heap');
      expect(vm.slab.raw(heap) !== heap, sanity).toBe(guarded);
    }
  });

  it('a slot never used: no flags, name or endpoint, the default stack top, no regions, no call allowed', () => {
    const { vm } = boot([image({ slot: 2 })]);
    const p = vm.procs[5];
    expect(p).toMatchObject({ slot: 5, name: '', flags: 0, endpoint: 0, stacktop: VM_STACKTOP, heap: null });
    expect([p?.regions.length, p?.physRanges.length, p?.callMask.every((b) => b === 0)]).toEqual([
      0,
      0,
      true,
    ]);
    expect(vm.exectmp).toMatchObject({ slot: -1, name: '', flags: 0 });
  });

  it('after boot VM is idle, with no process waiting to be reported as exited and room for every slot', async () => {
    const { vm, state } = boot([image({ slot: 2 })]);
    expect(state.busy).toBe(false);
    expect(doQueryExit(vm)).toEqual({ result: OK, endpoint: NONE, isMore: 0 });
    for (let slot = 0; slot < 8; slot++) {
      expect(
        await doNotifySig(vm, fakeVmProc, { type: 0, source: SYSTEM, endpoint: makeEndpoint(0, slot) }),
      ).toBe(OK);
    }
    expect(await doNotifySig(vm, fakeVmProc, { type: 0, source: SYSTEM, endpoint: makeEndpoint(1, 0) })).toBe(
      ENOMEM,
    );
  });

  it('bootKernelCalls hands the kernel the pointer page, then binds and releases each process with page tables', async () => {
    const { vm } = boot([
      image({ slot: 2 }),
      image({ slot: 4, fullVm: false, base: 0x50000 }),
      image({ slot: 5, base: 0x60000 }),
    ]);
    const calls: Record<string, unknown>[] = [];
    const answer = { type: OK };
    const p = {
      kernelCall: async (m: Record<string, unknown>) => {
        calls.push(m);
        return { ...answer, source: SYSTEM };
      },
    } as unknown as Proc;
    const [p2, p5] = [vm.procs[2], vm.procs[5]];
    if (p2 === undefined || p5 === undefined) throw new Error('no slot');
    markDirty(vm, p2);
    markDirty(vm, p5);
    await bootKernelCalls(vm, p);
    const bind = (q: typeof p2) => [
      { type: SYS_VMCTL, request: VMCTL_I386_SETCR3, endpoint: q.endpoint, frame: q.pt.dir },
      { type: SYS_VMCTL, request: VMCTL_VMINHIBIT_CLEAR, endpoint: q.endpoint },
    ];
    expect(calls).toEqual([
      { type: SYS_VMCTL, request: VMCTL_I386_PAGEDIRS, frame: vm.pagedirs },
      ...bind(p2),
      ...bind(p5),
    ]);
    expect(vm.dirty.size).toBe(0);
    answer.type = EINVAL;
    await expect(bootKernelCalls(vm, p)).rejects.toThrow(`VM boot: VMCTL_I386_PAGEDIRS failed (${EINVAL})`);
    calls.length = 0;
    p.kernelCall = async (m: Record<string, unknown>) => {
      calls.push(m);
      return { type: m.request === VMCTL_I386_SETCR3 ? EINVAL : OK, source: SYSTEM };
    };
    await expect(bootKernelCalls(vm, p)).rejects.toThrow(
      `VM boot: SETCR3 for ${p2.endpoint} failed (${EINVAL})`,
    );
    expect(calls.length).toBe(2);
  });

  it('with the pool empty, a new page of VM metadata comes from the spares', () => {
    const { state, vm } = boot([image({ slot: 2 })], {
      config: { slabObjectBytes: { region: 4000, physRegion: 24, physBlock: 24, avlNode: 20 } },
    });
    const p = vm.procs[2];
    if (p === undefined) throw new Error('no slot 2');
    const drained: number[] = [];
    for (let f = vm.alloc.allocPages(1, 0, false); f !== 0; f = vm.alloc.allocPages(1, 0, false))
      drained.push(f);
    const spares = vm.spares.length;
    expect(spares).toBeGreaterThan(0);
    expect(mmapRegion(vm, p, 0, PAGE, MAP_ANON, -1)).toBeGreaterThan(0);
    expect(vm.spares.length).toBeLessThan(spares);
    expect(state.slabStats().pages).toBeGreaterThan(0);
    // The free list's nodes went with its ranges, and come back with them.
    for (const f of drained) vm.alloc.freePages(f, 1);
    state.sanityCheck();
  });

  it("the free list's nodes come from VM's slab and go back to it; a freed page becomes a node page as a last resort", () => {
    const { state, vm } = boot([image({ slot: 2 })], {
      config: {
        sparePages: 0,
        slabObjectBytes: { region: 48, physRegion: 24, physBlock: 24, avlNode: 4000 },
      },
    });
    const nodes = () => state.slabStats().byClass.avlNode;
    const before = nodes();
    const drained: number[] = [];
    for (let f = vm.alloc.allocPages(1, 0, false); f !== 0; f = vm.alloc.allocPages(1, 0, false))
      drained.push(f);
    expect(nodes().live).toBeLessThan(before.live);
    // Every free node slot taken, and no page for another: freeing a lone page needs a node it can only make
    // from the page itself.
    let reserved = 0;
    while (vm.slab.reserveNodes(1)) reserved++;
    const lone = drained.shift() ?? 0;
    vm.alloc.freePages(lone, 1);
    expect([nodes().pages, vm.alloc.freeCount, vm.alloc.isFree(lone)]).toEqual([before.pages + 1, 0, false]);
    vm.slab.unreserveNodes(reserved);
    for (const f of drained) vm.alloc.freePages(f, 1);
    expect(nodes().live).toBe(before.live);
    state.sanityCheck();
  });
});
