// VmState (src/servers/vm/state.ts), VM's read-only view for tests, the CLI and the browser: process and region
// views and their lookups by endpoint or slot, references, PTEs and physical addresses, the page counts and how
// they add up, the snapshot's per-region counts (present, mapped, writable pages, across absent page tables), the
// frame map (runs, merging, sharing, DIRECT regions left out, a lost frame), flag names, fault injection, and the
// sanity checks it hands on. Each test boots its own small VM (16 MiB).
import { describe, expect, it } from 'vitest';
import { SELF, endpoint, makeEndpoint } from '../../../../src/include/endpoint.ts';
import type { Message } from '../../../../src/include/ipc.ts';
import {
  MAP_ANON,
  MAP_FIXED,
  MAP_SHARED,
  USER_PDE_FIRST,
  VM_PROCSTART,
  VM_STACKTOP,
  VR_ANON,
  VR_DIRECT,
  VR_LOWER16MB,
  VR_LOWER1MB,
  VR_NOPF,
  VR_PHYS64K,
  VR_SHARED,
  VR_WRITABLE,
} from '../../../../src/include/vm.ts';
import { ENOMEM, OK } from '../../../../src/include/errno.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import { smap, sunmap } from '../../../../src/servers/vm/memreq.ts';
import { doMapPhys, mmapRegion } from '../../../../src/servers/vm/mmap.ts';
import { pageFault } from '../../../../src/servers/vm/region.ts';
import { VmState, flagNames } from '../../../../src/servers/vm/state.ts';
import type { FrameRun } from '../../../../src/servers/vm/state.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, fakeVmProc, fork, fullAndBareVm, unitVm } from './helpers.ts';

/** Slot 1's layout in unitVm: text 4 pages, heap 4 pages, stack the two pages below VM_STACKTOP. */
const TEXT = VM_PROCSTART;
const HEAP = VM_PROCSTART + 4 * PAGE;
const STACK = VM_STACKTOP - 2 * PAGE;

/** Frames of the frame map with this use (and, for VM's own pages, this description). */
function framesOf(runs: readonly FrameRun[], use: string, what?: string): number {
  let n = 0;
  for (const r of runs) {
    if (r.info.use !== use) continue;
    if (what !== undefined && (r.info.use !== 'vm' || r.info.what !== what)) continue;
    n += r.frames;
  }
  return n;
}

/** The run holding frame f. */
function runAt(runs: readonly FrameRun[], f: number): FrameRun {
  const r = runs.find((x) => f >= x.frame && f < x.frame + x.frames);
  if (r === undefined) throw new Error(`no run holds frame ${f}`);
  return r;
}

/** A reference at the start of its region, as the frame map lists it. */
const holder = (u: UnitVm, slot: number, v: number, mode: 'private' | 'smap') => ({
  endpoint: u.proc(slot).endpoint,
  vaddr: v,
  region: v,
  mode,
});

/** Mapped and writable pages of [vaddr, vaddr+length) of ep, read PTE by PTE. */
function ptePages(
  u: UnitVm,
  ep: number,
  vaddr: number,
  length: number,
): { mapped: number; writable: number } {
  let mapped = 0;
  let writable = 0;
  for (let v = vaddr; v < vaddr + length; v += PAGE) {
    const e = u.state.pte(ep, v);
    if ((e & PTE.P) !== 0) mapped++;
    if ((e & PTE.P) !== 0 && (e & PTE.W) !== 0) writable++;
  }
  return { mapped, writable };
}

describe('VmState: flag names', () => {
  it('names each VR_ flag, in a fixed order joined by |; no flag, no name', () => {
    const all: [number, string][] = [
      [VR_ANON, 'ANON'],
      [VR_DIRECT, 'DIRECT'],
      [VR_SHARED, 'SHARED'],
      [VR_WRITABLE, 'WRITABLE'],
      [VR_NOPF, 'NOPF'],
      [VR_PHYS64K, 'PHYS64K'],
      [VR_LOWER16MB, 'LOWER16MB'],
      [VR_LOWER1MB, 'LOWER1MB'],
    ];
    for (const [bit, name] of all) expect(flagNames(bit)).toBe(name);
    expect(flagNames(0)).toBe('');
    expect(flagNames(VR_WRITABLE | VR_ANON)).toBe('ANON|WRITABLE');
    expect(flagNames(all.reduce((f, [bit]) => f | bit, 0))).toBe(all.map(([, n]) => n).join('|'));
  });
});

describe('VmState: processes and their lookups', () => {
  it('lists the slots in use with their flags, directory and regions; the heap is marked', () => {
    const u = unitVm({ slots: [1, 2] });
    const views = u.state.processes();
    expect(views.map((p) => p.slot)).toEqual([1, 2]);
    const p1 = views[0];
    expect(p1?.endpoint).toBe(u.proc(1).endpoint);
    expect(p1?.flags).toBe(u.proc(1).flags);
    expect(p1?.hasPageTable).toBe(true);
    expect(p1?.dirFrame).toBe(u.state.slotDirectory(1));
    expect(p1?.dirFrame).not.toBe(0);
    expect(p1?.regions.map((r) => [r.vaddr, r.length, r.flags, r.isHeap])).toEqual([
      [TEXT, 4 * PAGE, VR_ANON | VR_WRITABLE, false],
      [HEAP, 4 * PAGE, VR_ANON | VR_WRITABLE, true],
      [STACK, 2 * PAGE, VR_ANON | VR_WRITABLE, false],
    ]);
    expect(p1?.regions.map((r) => r.tag)).toEqual(u.proc(1).regions.map((r) => r.tag));
    expect(p1?.regions[2]?.refs).toEqual([]);
  });

  it('a process without a page table: no directory, no regions, PTE 0', () => {
    const state = fullAndBareVm();
    const bare = state.process(makeEndpoint(0, 6));
    expect(bare).toMatchObject({ slot: 6, hasPageTable: false, dirFrame: 0, regions: [] });
    expect(state.pte(makeEndpoint(0, 6), VM_PROCSTART)).toBe(0);
    expect(state.snapshot().processes.map((p) => [p.name, p.hasPageTable])).toEqual([
      ['full', true],
      ['bare', false],
    ]);
    expect(state.process(makeEndpoint(0, 1))?.hasPageTable).toBe(true);
  });

  it('finds a process by endpoint (its generation too) or by slot; not a free slot or one out of range', () => {
    const u = unitVm({ slots: [1, 2] });
    expect(fork(u, 1, 4)).toBe(OK);
    const child = u.proc(4).endpoint;
    expect(child).toBe(makeEndpoint(1, 4));
    expect(u.state.process(child)?.slot).toBe(4);
    expect(u.state.process(4, true)?.endpoint).toBe(child);
    expect(u.state.process(makeEndpoint(0, 4))).toBeNull();
    expect(u.state.process(makeEndpoint(2, 4))).toBeNull();
    expect(u.state.process(3, true)).toBeNull();
    expect(u.state.process(makeEndpoint(0, 3))).toBeNull();
    expect(u.state.process(99, true)).toBeNull();
    expect(u.state.regions(makeEndpoint(0, 3))).toEqual([]);
    expect(u.state.regions(child).map((r) => r.vaddr)).toEqual([TEXT, HEAP, STACK]);
  });

  it('refAt, physAddr and pte: the block holding an address, where it is, or nothing', () => {
    const u = unitVm({ slots: [1, 2] });
    const ep = u.proc(1).endpoint;
    const ref = u.state.refAt(ep, HEAP + 2 * PAGE + 5);
    expect(ref).toMatchObject({
      offset: 0,
      vaddr: HEAP,
      length: 4 * PAGE,
      refcount: 1,
      mode: 'private',
      smapWritable: false,
    });
    const phys = ref?.phys ?? -1;
    expect(u.state.physAddr(ep, HEAP + 2 * PAGE + 5)).toBe(phys + 2 * PAGE + 5);
    expect(u.state.pte(ep, HEAP + 2 * PAGE) & ~0xfff).toBe(phys + 2 * PAGE);
    expect(u.state.pte(ep, HEAP) & (PTE.P | PTE.W | PTE.U)).toBe(PTE.P | PTE.W | PTE.U);
    expect(u.state.refAt(ep, STACK)).toBeNull(); // a region, no block yet
    expect(u.state.refAt(ep, HEAP + 4 * PAGE)).toBeNull(); // no region
    expect(u.state.refAt(makeEndpoint(0, 3), HEAP)).toBeNull();
    expect(u.state.physAddr(ep, STACK)).toBe(-1);
    expect(u.state.pte(ep, STACK)).toBe(0);
    expect(u.state.pte(makeEndpoint(0, 3), HEAP)).toBe(0);
    expect(pageFault(u.vm, u.proc(1), STACK + PAGE, true)).toBe(OK);
    expect(u.state.refAt(ep, STACK + PAGE + 7)).toMatchObject({
      offset: PAGE,
      vaddr: STACK + PAGE,
      length: PAGE,
    });
    // A forked child's endpoint (generation 1) is not its slot number: found by the endpoint all the same.
    expect(fork(u, 1, 4)).toBe(OK);
    expect(u.state.refAt(u.proc(4).endpoint, HEAP + 2 * PAGE + 5)).toMatchObject({ phys, refcount: 2 });
  });

  it('slotDirectory: the directory a slot was given, 0 for none or a slot out of range', () => {
    const u = unitVm({ slots: [1, 2] });
    expect(u.state.slotDirectory(2)).toBe(u.vm.slotDirs[2]);
    expect(u.state.slotDirectory(3)).toBe(0);
    expect(u.state.slotDirectory(99)).toBe(0);
    expect(u.state.slotDirectory(-1)).toBe(0);
  });
});

describe('VmState: page counts', () => {
  it('free, used, internal, reserved and process pages add up, and agree with the frame map', () => {
    const u = unitVm({ slots: [1, 2] });
    expect(fork(u, 1, 4)).toBe(OK);
    const runs = u.state.frameMap();
    const s = u.state.snapshot();
    expect(u.state.totalPages).toBe(4096);
    expect(s.memory.totalPages).toBe(4096);
    expect(u.state.freePages()).toBe(framesOf(runs, 'free'));
    expect(s.memory.freePages).toBe(u.state.freePages());
    expect(u.state.usedPages()).toBe(4096 - u.state.freePages());
    expect(s.memory.usedPages).toBe(u.state.usedPages());
    expect(u.state.internalPages()).toBe(framesOf(runs, 'vm'));
    expect(s.memory.internalPages).toBe(framesOf(runs, 'vm'));
    expect(s.memory.reservedPages).toBe(framesOf(runs, 'reserved'));
    expect(s.memory.anonPages).toBe(framesOf(runs, 'process'));
    expect(s.memory.anonPages).toBe(16); // the forked pages are shared, not counted twice
    expect(u.state.spareCount()).toBe(framesOf(runs, 'vm', 'spare'));
    expect(u.state.spareCount()).toBe(u.vm.spares.length);
    expect(framesOf(runs, 'vm', 'slab')).toBe(u.state.slabStats().pages);
    expect(u.state.conservedPages()).toBe(
      u.state.freePages() + u.state.slabStats().pages + u.state.spareCount(),
    );
    expect(s.slab).toEqual(u.state.slabStats());
    expect(u.state.pagedirsFrame).toBe(u.vm.pagedirs);
    expect(runAt(runs, u.vm.pagedirs).info).toEqual({ use: 'vm', what: 'directory pointers' });
  });

  it('the free ranges, the largest of them, and the snapshot of them', () => {
    const u = unitVm({ slots: [1, 2] });
    const ranges = u.state.freeRanges();
    expect(ranges.length).toBeGreaterThan(2);
    expect(ranges.reduce((n, r) => n + r.size, 0)).toBe(u.state.freePages());
    const largest = Math.max(...ranges.map((r) => r.size));
    expect(u.state.largestFreeRange()).toBe(largest);
    expect(u.state.snapshot().memory.largestFreeRange).toBe(largest);
    expect(u.state.snapshot().freeRanges).toEqual(ranges.map((r) => ({ addr: r.addr, pages: r.size })));
  });

  it("EXECTMP's page tables are VM's own pages", () => {
    const u = unitVm({ slots: [1] });
    const internal = u.state.internalPages();
    const frame = u.vm.spares.pop() ?? 0;
    u.vm.exectmp.pt.tables[USER_PDE_FIRST + 3] = frame;
    expect(u.state.internalPages()).toBe(internal);
    expect(runAt(u.state.frameMap(), frame).info).toEqual({ use: 'vm', what: 'page table of EXECTMP' });
  });
});

describe('VmState: the snapshot of each region', () => {
  it('present, mapped and writable pages, flag and tag names, blocks with their counts', () => {
    const u = unitVm({ slots: [1, 2] });
    expect(fork(u, 1, 4)).toBe(OK);
    expect(pageFault(u.vm, u.proc(1), STACK + PAGE, true)).toBe(OK);
    expect(pageFault(u.vm, u.proc(4), HEAP, true)).toBe(OK);
    const snap = u.state.snapshot();
    expect(snap.processes.map((p) => [p.slot, p.name, p.endpoint, p.hasPageTable])).toEqual([
      [1, 'p1', u.proc(1).endpoint, true],
      [2, 'p2', u.proc(2).endpoint, true],
      [4, 'p1', u.proc(4).endpoint, true],
    ]);
    for (const p of snap.processes) {
      for (const r of p.regions) {
        const { mapped, writable } = ptePages(u, p.endpoint, r.vaddr, r.length);
        expect([r.mappedPages, r.writablePages], `slot ${p.slot} region 0x${r.vaddr.toString(16)}`).toEqual([
          mapped,
          writable,
        ]);
        expect(r.presentPages).toBe(r.blocks.reduce((n, b) => n + b.pages, 0));
        expect(r.flags).toBe('ANON|WRITABLE');
      }
      expect(p.regions.map((r) => r.tag)).toEqual(['NONE', 'HEAP', 'NONE']);
    }
    const [text1, heap1, stack1] = snap.processes[0]?.regions ?? [];
    expect(text1).toMatchObject({ presentPages: 4, mappedPages: 4, writablePages: 0 });
    expect(text1?.blocks).toEqual([{ vaddr: TEXT, pages: 4, refcount: 2, mode: 'private' }]);
    expect(stack1).toMatchObject({ presentPages: 1, mappedPages: 1, writablePages: 1 });
    expect(stack1?.blocks).toEqual([{ vaddr: STACK + PAGE, pages: 1, refcount: 1, mode: 'private' }]);
    // The child's write broke the COW of the heap block: the child's copy is writable; the parent's block is its
    // own again, writable at its next write fault.
    expect(heap1).toMatchObject({ presentPages: 4, mappedPages: 4, writablePages: 0 });
    expect(heap1?.blocks).toEqual([{ vaddr: HEAP, pages: 4, refcount: 1, mode: 'private' }]);
    expect(snap.processes[2]?.regions[1]).toMatchObject({
      presentPages: 4,
      mappedPages: 4,
      writablePages: 4,
    });
  });

  it('an absent page table counts no page, whatever page 0 holds', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const far = mmapRegion(u.vm, p, 0x40000000, 3 * PAGE, MAP_ANON | MAP_FIXED, -1);
    expect(far).toBe(0x40000000);
    expect(p.pt.tables[far >>> 22] ?? 0).toBe(0);
    // Page 0 is reserved and never read as a table: every entry there would say present and writable.
    u.mem.write(0, new Uint8Array(PAGE).fill(0xff), 0, PAGE);
    const region = u.state.snapshot().processes[0]?.regions.find((r) => r.vaddr === far);
    expect(region).toMatchObject({ presentPages: 0, mappedPages: 0, writablePages: 0 });
    expect(u.state.pte(p.endpoint, far)).toBe(0);
  });

  it('blocks come in address order; the PTEs of a region are counted across tables, present or absent', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const table = 0x30000000; // a 4 MiB boundary
    const at = mmapRegion(u.vm, p, table - 2 * PAGE, 1024 * PAGE + 4 * PAGE, MAP_ANON | MAP_FIXED, -1);
    expect(at).toBe(table - 2 * PAGE);
    for (const v of [table + 1025 * PAGE, table + PAGE, table - PAGE])
      expect(pageFault(u.vm, p, v, v !== table + PAGE)).toBe(OK);
    const far = mmapRegion(u.vm, p, 0x40000000, 3 * PAGE, MAP_ANON | MAP_FIXED, -1);
    expect(far).toBe(0x40000000);
    const regions = u.state.snapshot().processes[0]?.regions ?? [];
    const big = regions.find((r) => r.vaddr === at);
    expect(big?.blocks.map((b) => b.vaddr)).toEqual([table - PAGE, table + PAGE, table + 1025 * PAGE]);
    expect(big).toMatchObject({ presentPages: 3, mappedPages: 3 });
    expect(big?.writablePages).toBe(ptePages(u, p.endpoint, at, 1028 * PAGE).writable);
    expect(regions.find((r) => r.vaddr === far)).toMatchObject({
      presentPages: 0,
      mappedPages: 0,
      writablePages: 0,
      blocks: [],
    });
  });
});

describe('VmState: the frame map', () => {
  it('covers every frame once, in order; neighbours of the same non-process use are one run', () => {
    const u = unitVm({ slots: [1, 2] });
    const runs = u.state.frameMap();
    let next = 0;
    for (const r of runs) {
      expect(r.frame).toBe(next);
      expect(r.frames).toBeGreaterThan(0);
      next += r.frames;
    }
    expect(next).toBe(u.state.totalPages);
    for (let i = 1; i < runs.length; i++) {
      const [a, b] = [runs[i - 1], runs[i]];
      if (a?.info.use !== 'process') expect(JSON.stringify(a?.info)).not.toBe(JSON.stringify(b?.info));
    }
    expect(runAt(runs, 0).info.use).toBe('reserved');
    const spares = [...u.vm.spares].sort((x, y) => x - y);
    const first = spares[0] ?? -1;
    expect(runAt(runs, first)).toEqual({
      frame: first,
      frames: spares.length,
      info: { use: 'vm', what: 'spare' },
    });
    const dir = u.state.slotDirectory(2);
    expect(runAt(runs, dir).info).toEqual({ use: 'vm', what: 'directory of slot 2' });
    const pt = u.proc(2).pt.tables[VM_PROCSTART >>> 22] ?? 0;
    expect(runAt(runs, pt).info).toEqual({ use: 'vm', what: 'page table of slot 2' });
  });

  it('one run per block, with every reference to it, copy-on-write or safemap shared', () => {
    const u = unitVm({ slots: [1, 2] });
    expect(fork(u, 1, 4)).toBe(OK);
    expect(smap(u.vm, u.proc(2), HEAP, u.proc(1), STACK, PAGE, false)).toBe(OK);
    const runs = u.state.frameMap();
    const text = u.state.refAt(u.proc(1).endpoint, TEXT);
    expect(runAt(runs, (text?.phys ?? 0) / PAGE)).toEqual({
      frame: (text?.phys ?? 0) / PAGE,
      frames: 4,
      info: {
        use: 'process',
        refs: [holder(u, 1, TEXT, 'private'), holder(u, 4, TEXT, 'private')],
        refcount: 2,
        cow: true,
        smap: false,
      },
    });
    const own = u.state.refAt(u.proc(2).endpoint, TEXT);
    expect(runAt(runs, (own?.phys ?? 0) / PAGE).info).toEqual({
      use: 'process',
      refs: [holder(u, 2, TEXT, 'private')],
      refcount: 1,
      cow: false,
      smap: false,
    });
    const shared = u.state.refAt(u.proc(2).endpoint, HEAP);
    expect(runAt(runs, (shared?.phys ?? 0) / PAGE)).toMatchObject({
      frames: 1,
      info: { refcount: 2, cow: false, smap: true },
    });
    const sharedInfo = runAt(runs, (shared?.phys ?? 0) / PAGE).info;
    expect(
      sharedInfo.use === 'process' ? sharedInfo.refs.map((r) => [r.endpoint, r.vaddr, r.region, r.mode]) : [],
    ).toEqual([
      [u.proc(1).endpoint, STACK, STACK, 'smap'],
      [u.proc(2).endpoint, HEAP, HEAP, 'smap'],
    ]);
  });

  it('a DIRECT region (device memory) owns no RAM: its frames keep their own use', async () => {
    const u = unitVm({ slots: [1, 3] });
    const memory = u.proc(3);
    const before = u.state.frameMap();
    const hole = 0xa0000 / PAGE; // the memory hole at 640 KiB, reserved at boot
    expect(runAt(before, hole).info.use).toBe('reserved');
    const m: Message = {
      type: 0,
      source: endpoint(memory.endpoint),
      endpoint: SELF,
      phys: hole * PAGE,
      len: 2 * PAGE,
    };
    const r = await doMapPhys(u.vm, fakeVmProc, m, memory);
    expect(typeof r === 'number' ? r : r.result).toBe(OK);
    expect(
      u.state.regions(memory.endpoint).some((x) => x.flags === (VR_DIRECT | VR_NOPF | VR_WRITABLE)),
    ).toBe(true);
    expect(runAt(u.state.frameMap(), hole)).toEqual(runAt(before, hole));
  });

  it('a block shared both ways: the run lists every reference and is copy-on-write and safemap shared alike', () => {
    const u = unitVm({ slots: [1, 2] });
    // Slot 1's SHARED page, shared with its forked child (slot 4), which passes it on to slot 2 by safemap.
    const sh = mmapRegion(u.vm, u.proc(1), 0, PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(smap(u.vm, u.proc(2), HEAP, u.proc(4), sh, PAGE, false)).toBe(OK);
    const phys = u.state.refAt(u.proc(1).endpoint, sh)?.phys ?? 0;
    expect(runAt(u.state.frameMap(), phys / PAGE)).toEqual({
      frame: phys / PAGE,
      frames: 1,
      info: {
        use: 'process',
        refs: [holder(u, 1, sh, 'private'), holder(u, 2, HEAP, 'smap'), holder(u, 4, sh, 'smap')],
        refcount: 3,
        cow: true,
        smap: true,
      },
    });
  });

  it('a frame nothing accounts for panics, unless a request in progress may hold it', () => {
    const u = unitVm({ slots: [1] });
    const lost = u.vm.spares.pop() ?? 0;
    expect(() => u.state.frameMap()).toThrow(`frameMap: frame ${lost} is neither free nor accounted for`);
    u.vm.busy = true;
    expect(u.state.busy).toBe(true);
    expect(runAt(u.state.frameMap(), lost)).toEqual({
      frame: lost,
      frames: 1,
      info: { use: 'vm', what: 'held by the request in progress' },
    });
    u.vm.busy = false;
    expect(u.state.busy).toBe(false);
  });

  it('a block whose one safemap reference comes first is safemap shared; each reference has its own address', () => {
    const u = unitVm({ slots: [1, 2] });
    const [p, child] = [u.proc(1), u.proc(4)];
    // Slot 1's two SHARED pages, shared with its forked child (slot 4); slot 1 passes the second on to slot 2 by
    // safemap, which slot 2 then ends: slot 1's reference is the block's only smap one, and it is not at offset 0.
    const sh = mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(smap(u.vm, u.proc(2), HEAP, p, sh + PAGE, PAGE, false)).toBe(OK);
    expect(sunmap(u.vm, u.proc(2), HEAP, PAGE)).toBe(OK);
    const phys = u.state.refAt(p.endpoint, sh + PAGE)?.phys ?? 0;
    expect(runAt(u.state.frameMap(), phys / PAGE)).toEqual({
      frame: phys / PAGE,
      frames: 1,
      info: {
        use: 'process',
        refs: [
          { endpoint: p.endpoint, vaddr: sh + PAGE, region: sh, mode: 'smap' },
          { endpoint: child.endpoint, vaddr: sh + PAGE, region: sh, mode: 'private' },
        ],
        refcount: 2,
        cow: true,
        smap: true,
      },
    });
    u.state.sanityCheck();
  });

  it("a slot not in use is not read: its blocks' frames are nobody's", () => {
    const u = unitVm({ slots: [1, 2] });
    const frame = (u.state.refAt(u.proc(2).endpoint, TEXT)?.phys ?? 0) / PAGE;
    u.proc(2).flags &= ~VMF_INUSE;
    expect(() => u.state.frameMap()).toThrow(`frame ${frame} is neither`);
  });
});

describe('VmState: fault injection and the sanity checks', () => {
  it('failAfter(n) fails the n-th fallible allocation from now; 0, a negative n or null never', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const count = u.state.allocCount;
    expect(pageFault(u.vm, p, STACK, true)).toBe(OK);
    expect(u.state.allocCount).toBeGreaterThan(count);
    u.state.failAfter(1);
    expect(u.vm.inject.failAt).toBe(u.state.allocCount + 1);
    expect(pageFault(u.vm, p, STACK + PAGE, true)).toBe(ENOMEM);
    for (const off of [0, -1, null]) {
      u.state.failAfter(3);
      u.state.failAfter(off);
      expect(u.vm.inject.failAt, `failAfter(${String(off)})`).toBe(0);
    }
    expect(pageFault(u.vm, p, STACK + PAGE, true)).toBe(OK);
  });

  it('config, counts, the machine view, the internals and the page size', () => {
    const u = unitVm({ slots: [1], sanity: 'detail' });
    expect(u.state.config.sanity).toBe('detail');
    expect(u.state.counts).toEqual({ cowBreaks: 0, cowPagesCopied: 0 });
    const view = { step: () => 7 };
    u.state.setMachineView(view);
    expect(u.vm.view).toBe(view);
    expect(u.state.internals).toBe(u.vm);
    expect(VmState.pageSize).toBe(PAGE);
  });

  it('sanityCheck and changesCheck name themselves in a panic; changesCheck waits for a change once tracking', () => {
    const u = unitVm({ slots: [1, 2] });
    u.vm.dirty.clear();
    u.state.sanityCheck();
    u.vm.spares.pop(); // E16: a page lost, which only the full check sweeps for
    expect(() => u.state.sanityCheck()).toThrow(/^VM sanity E16: .* \[at sanityCheck\(\)\]$/);
    expect(() => u.state.changesCheck()).toThrow(/^VM sanity E16: .* \[at changesCheck\(\)\]$/);
    u.state.trackChanges();
    u.state.changesCheck();
    u.vm.exectmp.flags |= VMF_INUSE; // A3, which the incremental check reads, but only once something changed
    u.state.changesCheck();
    u.vm.touched?.add(u.proc(1));
    expect(() => u.state.changesCheck()).toThrow(/^VM sanity A3: .* \[at changesCheck\(\)\]$/);
  });
});
