// Edges of VM's regions, blocks and references (src/servers/vm/region.ts) beyond region.test.ts and
// block_list.test.ts: lookups at the ends of regions and blocks, the WRITABLE and COW-sharing rules case by case,
// the allocation flags, bad ranges, region order, newBlock on device memory and its trace, page faults at an
// offset within a page, on a read-only region and on a cleared PTE, holes and their filling, and CHECK (handleMemory)
// over partial pages, read-only and device regions, and a block no longer shared.
import { describe, expect, it } from 'vitest';
import { EFAULT, ENOMEM, OK } from '../../../../src/include/errno.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import {
  MAP_ALIGN64K,
  MAP_ANON,
  MAP_NONE,
  MAP_PREALLOC,
  PAF_ALIGN64K,
  PAF_LOWER16MB,
  PAF_LOWER1MB,
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
  VRT_NONE,
} from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { clearSlot, freeAddressSpace } from '../../../../src/servers/vm/exit.ts';
import { smap } from '../../../../src/servers/vm/memreq.ts';
import { mmapRegion, munmapRange } from '../../../../src/servers/vm/mmap.ts';
import { ptClearRun } from '../../../../src/servers/vm/pagetable.ts';
import type { PhysBlock, PhysRegion, Region } from '../../../../src/servers/vm/region.ts';
import {
  cowShared,
  fillRange,
  findRegion,
  handleMemory,
  hasHole,
  newBlock,
  newRegion,
  pafFlags,
  pageFault,
  physAddrOf,
  refAt,
  refsIn,
  removeRegion,
  writableBy,
} from '../../../../src/servers/vm/region.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, fork, peek, poke, unitVm } from './helpers.ts';

const TEXT = VM_PROCSTART;
const HEAP = VM_PROCSTART + 4 * PAGE;
const STACK = VM_STACKTOP - 2 * PAGE;
const RW = VR_ANON | VR_WRITABLE;

/** The message of what fn throws, or 'passed'. */
function outcome(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'passed';
}

function regionAt(u: UnitVm, slot: number, v: number): Region {
  const r = findRegion(u.proc(slot), v);
  if (r === null) throw new Error(`no region at ${v.toString(16)}`);
  return r;
}

/** A new anonymous region of `pages` pages in slot 1 at a free address, with blocks at the given page offsets. */
function holey(u: UnitVm, pages: number, blocks: [number, number][], flags = RW): Region {
  const a = mmapRegion(u.vm, u.proc(1), 0, pages * PAGE, MAP_ANON, -1);
  expect(a).toBeGreaterThan(0);
  const r = regionAt(u, 1, a);
  u.vm.slab.use(r, () => {
    r.flags = flags;
  });
  for (const [at, n] of blocks) expect(newBlock(u.vm, r, at * PAGE, n * PAGE, MAP_NONE)).toBe(OK);
  return r;
}

/** [offset, length] in pages of each reference of r. */
const layout = (r: Region): [number, number][] =>
  refsIn(r, 0, r.length).map((x) => [x.offset / PAGE, x.block.length / PAGE]);

describe('lookups at the ends of regions and blocks', () => {
  it('findRegion: first and last byte of each region; the byte after one before a gap; before the first', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const [text, heap, stack] = p.regions;
    expect(findRegion(p, TEXT)).toBe(text);
    expect(findRegion(p, HEAP - 1)).toBe(text);
    expect(findRegion(p, HEAP)).toBe(heap);
    expect(findRegion(p, HEAP + 4 * PAGE - 1)).toBe(heap);
    expect(findRegion(p, HEAP + 4 * PAGE)).toBeNull();
    expect(findRegion(p, STACK - 1)).toBeNull();
    expect(findRegion(p, STACK)).toBe(stack);
    expect(findRegion(p, VM_STACKTOP - 1)).toBe(stack);
    expect(findRegion(p, VM_STACKTOP)).toBeNull();
    expect(findRegion(p, TEXT - 1)).toBeNull();
    expect(findRegion(u.proc(7), TEXT)).toBeNull();
  });

  it('refAt, refsIn and physAddrOf at the ends of blocks, with a hole between two', () => {
    const u = unitVm({ slots: [1] });
    const r = holey(u, 6, [
      [0, 2],
      [3, 1],
    ]);
    const [first, second] = refsIn(r, 0, r.length);
    expect(refAt(r, 0)).toBe(first);
    expect(refAt(r, 2 * PAGE - 1)).toBe(first);
    expect(refAt(r, 2 * PAGE)).toBeNull();
    expect(refAt(r, 3 * PAGE)).toBe(second);
    expect(refAt(r, 4 * PAGE)).toBeNull();
    expect(refsIn(r, 2 * PAGE, 3 * PAGE)).toEqual([]);
    expect(refsIn(r, 2 * PAGE, 3 * PAGE + 1)).toEqual([second]);
    expect(refsIn(r, PAGE, 3 * PAGE)).toEqual([first]);
    expect(refsIn(r, 0, 6 * PAGE)).toEqual([first, second]);
    const p = u.proc(1);
    const b = (second as PhysRegion).block;
    expect(physAddrOf(p, r.vaddr + 3 * PAGE + 5)).toBe(b.phys + 5);
    expect(physAddrOf(p, r.vaddr + PAGE + 7)).toBe((first as PhysRegion).block.phys + PAGE + 7);
    expect(physAddrOf(p, r.vaddr + 2 * PAGE)).toBe(-1);
    expect(physAddrOf(p, r.vaddr + 6 * PAGE)).toBe(-1);
  });
});

describe('the rules', () => {
  it('WRITABLE: always in SHARED and DIRECT regions; never without VR_WRITABLE; smap by its flag; private when alone', () => {
    for (const flags of [VR_SHARED, VR_DIRECT]) {
      expect(writableBy(flags, 'private', false, 3)).toBe(true);
      expect(writableBy(flags, 'smap', false, 2)).toBe(true);
    }
    expect(writableBy(VR_ANON, 'private', true, 1)).toBe(false);
    expect(writableBy(RW, 'smap', true, 2)).toBe(true);
    expect(writableBy(RW, 'smap', false, 1)).toBe(false);
    expect(writableBy(RW, 'private', true, 2)).toBe(false);
    expect(writableBy(RW, 'private', false, 1)).toBe(true);
  });

  it('COW-shared: two private references from anonymous regions; not one, not smap ones, not SHARED regions', () => {
    const u = unitVm({ slots: [1, 2] });
    const block = (slot: number, v: number): PhysBlock => {
      const x = refAt(regionAt(u, slot, v), v - regionAt(u, slot, v).vaddr);
      if (x === null) throw new Error('no reference');
      return x.block;
    };
    expect(cowShared(block(1, HEAP))).toBe(false);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(cowShared(block(1, HEAP))).toBe(true);
    const shared = mmapRegion(u.vm, u.proc(2), 0, PAGE, MAP_ANON | 0x01, -1);
    expect(fork(u, 2, 5)).toBe(OK);
    expect(block(2, shared).refcount).toBe(2);
    expect(cowShared(block(2, shared))).toBe(false);
  });

  it('allocation flags of a region: each of PHYS64K, LOWER16MB, LOWER1MB, and all three', () => {
    expect(pafFlags(RW)).toBe(0);
    expect(pafFlags(VR_PHYS64K)).toBe(PAF_ALIGN64K);
    expect(pafFlags(VR_LOWER16MB)).toBe(PAF_LOWER16MB);
    expect(pafFlags(VR_LOWER1MB)).toBe(PAF_LOWER1MB);
    expect(pafFlags(RW | VR_PHYS64K | VR_LOWER16MB | VR_LOWER1MB)).toBe(
      PAF_ALIGN64K | PAF_LOWER16MB | PAF_LOWER1MB,
    );
  });
});

describe('regions', () => {
  it('a range off a page, of no length or of a part page panics', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const at = 0x40000000;
    for (const [v, len] of [
      [at + 1, PAGE],
      [at, 0],
      [at, PAGE + 1],
    ] as const) {
      expect(outcome(() => newRegion(u.vm, p, v, len, RW, VRT_NONE))).toBe(
        `newRegion: bad range 0x${v.toString(16)}+${len}`,
      );
    }
  });

  it('regions right before and right after others fit; one page over either side panics', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const end = HEAP + 4 * PAGE;
    expect(newRegion(u.vm, p, end + 2 * PAGE, PAGE, RW, VRT_NONE)).not.toBeNull();
    expect(outcome(() => newRegion(u.vm, p, end - PAGE, 2 * PAGE, RW, VRT_NONE))).toBe(
      `newRegion: 0x${(end - PAGE).toString(16)} overlaps a region`,
    );
    expect(outcome(() => newRegion(u.vm, p, end + PAGE, 2 * PAGE, RW, VRT_NONE))).toBe(
      `newRegion: 0x${(end + PAGE).toString(16)} overlaps a region`,
    );
    expect(newRegion(u.vm, p, end, PAGE, RW, VRT_NONE)).not.toBeNull();
    expect(newRegion(u.vm, p, end + PAGE, PAGE, RW, VRT_NONE)).not.toBeNull();
    expect(p.regions.map((r) => (r.vaddr - HEAP) / PAGE)).toEqual([-4, 0, 4, 5, 6, (STACK - HEAP) / PAGE]);
    u.state.sanityCheck();
  });

  it('removing a region other than the heap keeps the heap; removing the heap clears it', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const heap = p.heap;
    removeRegion(u.vm, p, regionAt(u, 1, STACK));
    expect(p.heap).toBe(heap);
    removeRegion(u.vm, p, regionAt(u, 1, HEAP));
    expect(p.heap).toBeNull();
    expect(p.regions).toHaveLength(1);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('newBlock', () => {
  it('a range off a page, of no pages, of a part page, or past the region panics; one ending at its end fits', () => {
    const u = unitVm({ slots: [1] });
    const r = holey(u, 4, []);
    for (const [off, len] of [
      [1, PAGE],
      [0, 0],
      [0, PAGE + 1],
      [3 * PAGE, 2 * PAGE],
    ] as const) {
      expect(outcome(() => newBlock(u.vm, r, off, len, MAP_NONE))).toBe(`newBlock: bad range ${off}+${len}`);
    }
    expect(newBlock(u.vm, r, 2 * PAGE, 2 * PAGE, MAP_NONE)).toBe(OK);
    expect(layout(r)).toEqual([[2, 2]]);
  });

  it('on device memory: its frames as given; failing, they are not handed to the pool; traced as an alloc', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const dev = newRegion(u.vm, p, 0x40000000, 2 * PAGE, VR_DIRECT | VR_NOPF | VR_WRITABLE, VRT_NONE);
    if (dev === null) throw new Error('ENOMEM');
    const inPool = (): boolean[] =>
      [0xa0, 0xa1].map((f) => u.state.freeRanges().some((x) => f >= x.addr && f < x.addr + x.size));
    expect(inPool()).toEqual([false, false]);
    u.state.failAfter(1);
    expect(newBlock(u.vm, dev, 0, 2 * PAGE, 0xa0000)).toBe(ENOMEM);
    u.state.failAfter(null);
    expect(inPool()).toEqual([false, false]);
    const events: TraceEvent[] = [];
    u.vm.trace = (e) => events.push(e);
    expect(newBlock(u.vm, dev, 0, 2 * PAGE, 0xa0000)).toBe(OK);
    expect(physAddrOf(p, 0x40000000 + PAGE + 3)).toBe(0xa1003);
    expect(inPool()).toEqual([false, false]);
    removeRegion(u.vm, p, dev);
    expect(inPool()).toEqual([false, false]); // device frames are not the pool's, even with their last reference gone
    expect(events).toEqual([
      expect.objectContaining({ kind: 'vm', op: 'alloc', ep: p.endpoint, vaddr: 0x40000000, pages: 2 }),
    ]);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('failing at each allocation in turn: ENOMEM, no block or reference kept (a page table made stays)', () => {
    const u = unitVm({ slots: [1] });
    const r = holey(u, 2, []);
    const objects = (): number[] => {
      const c = u.state.slabStats().byClass;
      return [c.region.live, c.physRegion.live, c.physBlock.live];
    };
    const before = objects();
    let n = 1;
    for (; ; n++) {
      u.state.failAfter(n);
      const res = newBlock(u.vm, r, 0, 2 * PAGE, MAP_NONE);
      u.state.failAfter(null);
      if (res === OK) break;
      expect(res).toBe(ENOMEM);
      expect(objects(), `allocation ${n}`).toEqual(before);
      expect(layout(r)).toEqual([]);
      u.vm.dirty.clear();
      u.state.sanityCheck();
    }
    expect(n).toBeGreaterThan(2);
  });
});

describe('page faults', () => {
  it('in a region that takes none panics; a write to a read-only region → EFAULT, a read maps it', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const dev = newRegion(u.vm, p, 0x40000000, PAGE, VR_DIRECT | VR_NOPF | VR_WRITABLE, VRT_NONE);
    expect(dev).not.toBeNull();
    expect(outcome(() => pageFault(u.vm, p, 0x40000010, false))).toBe(
      'VM: page fault at 0x40000010 in a direct region',
    );
    const ro = newRegion(u.vm, p, 0x50000000, 2 * PAGE, VR_ANON, VRT_NONE);
    expect(ro).not.toBeNull();
    expect(pageFault(u.vm, p, 0x50000000 + PAGE, true)).toBe(EFAULT);
    expect(u.state.pte(p.endpoint, 0x50000000 + PAGE)).toBe(0);
    expect(pageFault(u.vm, p, 0x50000000 + PAGE + 9, false)).toBe(OK);
    expect(u.state.pte(p.endpoint, 0x50000000 + PAGE) & (PTE.P | PTE.W)).toBe(PTE.P);
    expect(layout(ro as Region)).toEqual([[1, 1]]);
  });

  it('a fault at an offset within a page maps that whole page', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const r = holey(u, 4, []);
    expect(pageFault(u.vm, p, r.vaddr + 2 * PAGE - 1, true)).toBe(OK);
    expect(pageFault(u.vm, p, r.vaddr + 2 * PAGE + 0x123, false)).toBe(OK);
    expect(layout(r)).toEqual([
      [1, 1],
      [2, 1],
    ]);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('a read fault on a COW page whose PTE was cleared maps it again read-only, without a copy', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    expect(fork(u, 1, 4)).toBe(OK);
    ptClearRun(u.mem, p.pt, HEAP, 4);
    const breaks = u.state.counts.cowBreaks;
    expect(pageFault(u.vm, p, HEAP + 2 * PAGE, false)).toBe(OK);
    expect(u.state.counts.cowBreaks).toBe(breaks);
    expect(u.state.refAt(p.endpoint, HEAP)?.refcount).toBe(2);
    for (let i = 0; i < 4; i++)
      expect(u.state.pte(p.endpoint, HEAP + i * PAGE) & (PTE.P | PTE.W)).toBe(PTE.P);
    expect(u.vm.dirty.has(p)).toBe(true);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('holes', () => {
  it('hasHole over covered, partly covered and empty ranges, at the ends of blocks', () => {
    const u = unitVm({ slots: [1] });
    const r = holey(u, 8, [
      [1, 2],
      [3, 1],
      [6, 1],
    ]);
    const hole = (a: number, b: number): boolean => hasHole(r, a * PAGE, b * PAGE);
    expect([hole(1, 4), hole(1, 2), hole(2, 4), hole(3, 4), hole(6, 7)]).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
    expect([hole(0, 1), hole(0, 2), hole(1, 5), hole(4, 6), hole(5, 7), hole(6, 8), hole(7, 8)]).toEqual([
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]);
  });

  it('fillRange gives each hole one block of its length, before, between and after blocks, and nothing else', () => {
    const u = unitVm({ slots: [1] });
    let r = holey(u, 10, [
      [2, 1],
      [5, 2],
    ]);
    expect(fillRange(u.vm, r, 0, 9 * PAGE)).toBe(OK);
    expect(layout(r)).toEqual([
      [0, 2],
      [2, 1],
      [3, 2],
      [5, 2],
      [7, 2],
    ]);
    // Ranges starting where a block starts, blocks next to each other, a range ending where a block ends.
    r = holey(u, 8, [
      [2, 1],
      [3, 1],
      [5, 1],
    ]);
    expect(fillRange(u.vm, r, 2 * PAGE, 6 * PAGE)).toBe(OK);
    expect(fillRange(u.vm, r, 0, 3 * PAGE)).toBe(OK);
    expect(fillRange(u.vm, r, 5 * PAGE, 8 * PAGE)).toBe(OK);
    expect(layout(r)).toEqual([
      [0, 2],
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 1],
      [6, 2],
    ]);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('CHECK (handleMemory)', () => {
  it('two bytes across a page boundary make both pages present, and only those', () => {
    const u = unitVm({ slots: [1] });
    const r = holey(u, 4, []);
    expect(handleMemory(u.vm, u.proc(1), r.vaddr + 2 * PAGE - 1, 2, false)).toBe(OK);
    expect(layout(r)).toEqual([[1, 2]]);
    expect(handleMemory(u.vm, u.proc(1), r.vaddr + 3 * PAGE, 1, false)).toBe(OK);
    expect(layout(r)).toEqual([
      [1, 2],
      [3, 1],
    ]);
  });

  it('a write to a read-only region → EFAULT, a read fills it; a device region is left as it is', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const ro = newRegion(u.vm, p, 0x50000000, 2 * PAGE, VR_ANON, VRT_NONE);
    if (ro === null) throw new Error('ENOMEM');
    expect(handleMemory(u.vm, p, 0x50000000, 2 * PAGE, true)).toBe(EFAULT);
    expect(layout(ro)).toEqual([]);
    expect(handleMemory(u.vm, p, 0x50000000, 2 * PAGE, false)).toBe(OK);
    expect(layout(ro)).toEqual([[0, 2]]);
    const dev = newRegion(u.vm, p, 0x40000000, 2 * PAGE, VR_DIRECT | VR_NOPF | VR_WRITABLE, VRT_NONE);
    if (dev === null) throw new Error('ENOMEM');
    expect(handleMemory(u.vm, p, 0x40000000, 2 * PAGE, true)).toBe(OK);
    expect(layout(dev)).toEqual([]);
  });

  it('a write CHECK where the sharer has gone sets W without a copy; where it has not, copies', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    poke(u, p, HEAP, Uint8Array.of(5));
    expect(fork(u, 1, 4)).toBe(OK);
    expect(fork(u, 1, 5)).toBe(OK);
    freeAddressSpace(u.vm, u.proc(4));
    clearSlot(u.vm, u.proc(4));
    const breaks = u.state.counts.cowBreaks;
    expect(handleMemory(u.vm, u.proc(5), HEAP, PAGE, true)).toBe(OK);
    expect(u.state.counts.cowBreaks).toBe(breaks + 1);
    expect(u.state.counts.cowPagesCopied).toBeGreaterThanOrEqual(4);
    expect(u.state.refAt(p.endpoint, HEAP)?.refcount).toBe(1);
    expect(u.state.pte(p.endpoint, HEAP) & PTE.W).toBe(0);
    expect(handleMemory(u.vm, p, HEAP, PAGE, true)).toBe(OK);
    expect(u.state.counts.cowBreaks).toBe(breaks + 1);
    expect(u.state.pte(p.endpoint, HEAP) & PTE.W).toBe(PTE.W);
    expect(peek(u, p, HEAP, 1)[0]).toBe(5);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('safemap references: the revert rule and writes', () => {
  it('a block left with two smap references keeps them; left with one, it turns private and not smap-writable', () => {
    const u = unitVm({ slots: [1, 2, 3] });
    const [p1, p2, p3] = [u.proc(1), u.proc(2), u.proc(3)];
    expect(smap(u.vm, p2, HEAP, p1, HEAP, PAGE, true)).toBe(OK);
    expect(smap(u.vm, p3, HEAP, p1, HEAP, PAGE, true)).toBe(OK);
    const view = (ep: number): unknown => {
      const x = u.state.refAt(ep, HEAP);
      return [x?.mode, x?.smapWritable, x?.refcount];
    };
    expect(view(p1.endpoint)).toEqual(['smap', true, 3]);
    expect(munmapRange(u.vm, p3, HEAP, PAGE)).toBe(OK);
    expect([view(p1.endpoint), view(p2.endpoint)]).toEqual([
      ['smap', true, 2],
      ['smap', true, 2],
    ]);
    expect(munmapRange(u.vm, p2, HEAP, PAGE)).toBe(OK);
    expect(view(p1.endpoint)).toEqual(['private', false, 1]);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('an SMAP failing after the source turned smap turns it back: private, not smap-writable', () => {
    const u = unitVm({ slots: [1, 2] });
    const [p1, p2] = [u.proc(1), u.proc(2)];
    let failures = 0;
    for (let n = 1; ; n++) {
      u.state.failAfter(n);
      const r = smap(u.vm, p2, HEAP, p1, HEAP, PAGE, true);
      u.state.failAfter(null);
      if (r === OK) break;
      expect(r, `allocation ${n}`).toBe(ENOMEM);
      const x = u.state.refAt(p1.endpoint, HEAP);
      expect([x?.mode, x?.smapWritable, x?.refcount], `allocation ${n}`).toEqual(['private', false, 1]);
      failures++;
      u.vm.dirty.clear();
      u.state.sanityCheck();
    }
    expect(failures).toBeGreaterThan(0);
  });

  it('a write fault on a writable smap page whose PTE lacks W maps it writable, shared, without a copy', () => {
    const u = unitVm({ slots: [1, 2] });
    const [p1, p2] = [u.proc(1), u.proc(2)];
    expect(smap(u.vm, p2, HEAP, p1, HEAP, PAGE, true)).toBe(OK);
    ptClearRun(u.mem, p2.pt, HEAP, 1);
    const breaks = u.state.counts.cowBreaks;
    expect(pageFault(u.vm, p2, HEAP + 8, true)).toBe(OK);
    expect(u.state.pte(p2.endpoint, HEAP) & (PTE.P | PTE.W)).toBe(PTE.P | PTE.W);
    expect(u.state.counts.cowBreaks).toBe(breaks);
    poke(u, p2, HEAP, Uint8Array.of(0x77));
    expect(peek(u, p1, HEAP, 1)[0]).toBe(0x77);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('CHECK and copies, further cases', () => {
  it('CHECK failing to fill a hole or to copy a shared page → ENOMEM', () => {
    const u = unitVm({ slots: [1] });
    const r = holey(u, 2, []);
    u.state.failAfter(1);
    expect(handleMemory(u.vm, u.proc(1), r.vaddr, PAGE, false)).toBe(ENOMEM);
    u.state.failAfter(null);
    expect(fork(u, 1, 4)).toBe(OK);
    u.state.failAfter(1);
    expect(handleMemory(u.vm, u.proc(1), HEAP, PAGE, true)).toBe(ENOMEM);
    u.state.failAfter(null);
    expect(u.state.refAt(u.proc(1).endpoint, HEAP)?.refcount).toBe(2);
  });

  it('a write CHECK of pages already writable marks no TLB flush', () => {
    const u = unitVm({ slots: [1] });
    u.vm.dirty.clear();
    expect(handleMemory(u.vm, u.proc(1), HEAP, 2 * PAGE, true)).toBe(OK);
    expect(u.vm.dirty.size).toBe(0);
  });

  it('a COW break in a PHYS64K region copies into a 64 KiB-aligned block', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    u.vm.spares.push(u.vm.alloc.allocPages(1, 0)); // the top page taken: an unaligned copy would land below it
    const a = mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON | MAP_PREALLOC | MAP_ALIGN64K, -1);
    expect(a).toBeGreaterThan(0);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(pageFault(u.vm, p, a, true)).toBe(OK);
    const phys = u.state.physAddr(p.endpoint, a);
    expect(phys).not.toBe(u.state.physAddr(u.proc(4).endpoint, a));
    expect(phys % (64 * 1024)).toBe(0);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('regions and blocks, further cases', () => {
  it('removing the first region clears its PTEs only, and gives its tree nodes back to the slab', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const text = regionAt(u, 1, TEXT);
    expect(p.regions[0]).toBe(text);
    removeRegion(u.vm, p, text);
    expect(p.regions.map((r) => r.vaddr)).toEqual([HEAP, STACK]);
    expect(u.state.pte(p.endpoint, HEAP) & PTE.P).toBe(PTE.P);
    // A forked child's region of one block still shared with the parent (no page freed): its tree node goes back.
    expect(fork(u, 1, 4)).toBe(OK);
    const nodes = u.vm.slab.liveNodes;
    removeRegion(u.vm, u.proc(4), regionAt(u, 4, HEAP));
    expect(u.vm.slab.liveNodes).toBe(nodes - 1);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('a new block and a COW break are traced at their own address inside the region', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    const events: TraceEvent[] = [];
    u.vm.trace = (e) => events.push(e);
    expect(pageFault(u.vm, p, STACK + PAGE, true)).toBe(OK);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(pageFault(u.vm, p, STACK + PAGE, true)).toBe(OK);
    expect(events.filter((e) => e.kind === 'vm' && (e.op === 'alloc' || e.op === 'cow-break'))).toEqual([
      expect.objectContaining({ op: 'alloc', ep: p.endpoint, vaddr: STACK + PAGE, pages: 1 }),
      expect.objectContaining({ op: 'cow-break', ep: p.endpoint, vaddr: STACK + PAGE, pages: 1 }),
    ]);
  });

  it('the copy of a COW break is an ordinary page, not 64 KiB-aligned, outside a PHYS64K region', () => {
    const u = unitVm({ slots: [1] });
    // An unaligned page taken first, so that an allocation without alignment would not land on a 64 KiB boundary.
    u.vm.spares.push(u.vm.alloc.allocPages(1, 0));
    expect(fork(u, 1, 4)).toBe(OK);
    expect(pageFault(u.vm, u.proc(1), STACK - PAGE, true)).toBe(EFAULT);
    expect(pageFault(u.vm, u.proc(1), HEAP, true)).toBe(OK);
    expect(physAddrOf(u.proc(1), HEAP) % (64 * 1024)).not.toBe(0);
    expect(physAddrOf(u.proc(1), HEAP)).not.toBe(physAddrOf(u.proc(4), HEAP));
  });

  it('CHECK with write maps writable a page no longer shared, reading its own PTE, not one below its region', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    expect([pageFault(u.vm, p, STACK, true), pageFault(u.vm, p, STACK + PAGE, true)]).toEqual([OK, OK]);
    // A writable page right below the stack, a page below it as the stack's second block is above it.
    const below = newRegion(u.vm, p, STACK - PAGE, PAGE, RW, VRT_NONE);
    if (below === null) throw new Error('ENOMEM');
    expect(fork(u, 1, 4)).toBe(OK);
    removeRegion(u.vm, u.proc(4), regionAt(u, 4, STACK));
    expect(pageFault(u.vm, p, STACK - PAGE, true)).toBe(OK);
    expect(u.state.pte(p.endpoint, STACK - PAGE) & PTE.W).toBe(PTE.W);
    expect([
      refAt(regionAt(u, 1, STACK), PAGE)?.block.refcount,
      u.state.pte(p.endpoint, STACK + PAGE) & PTE.W,
    ]).toEqual([1, 0]);
    expect(handleMemory(u.vm, p, STACK + PAGE, PAGE, true)).toBe(OK);
    expect(u.state.pte(p.endpoint, STACK + PAGE) & PTE.W).toBe(PTE.W);
  });

  it('CHECK with write makes every block of the range writable, not only the first', () => {
    const u = unitVm({ slots: [1] });
    const p = u.proc(1);
    expect([pageFault(u.vm, p, STACK, true), pageFault(u.vm, p, STACK + PAGE, true)]).toEqual([OK, OK]);
    expect(fork(u, 1, 4)).toBe(OK);
    expect(refsIn(regionAt(u, 1, STACK), 0, 2 * PAGE)).toHaveLength(2);
    expect(handleMemory(u.vm, p, STACK, 2 * PAGE, true)).toBe(OK);
    expect([u.state.pte(p.endpoint, STACK) & PTE.W, u.state.pte(p.endpoint, STACK + PAGE) & PTE.W]).toEqual([
      PTE.W,
      PTE.W,
    ]);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});
