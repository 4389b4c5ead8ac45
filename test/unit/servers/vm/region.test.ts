import { describe, expect, it } from 'vitest';
import { EDEADSRCDST, EFAULT, EINVAL, ENOMEM, OK } from '../../../../src/include/errno.ts';
import { VMPTYPE_CHECK, VMPTYPE_COWMAP } from '../../../../src/include/com.ts';
import { SYSTEM, makeEndpoint } from '../../../../src/include/endpoint.ts';
import { MAP_ANON, MAP_PREALLOC, MAP_SHARED, VM_PROCSTART, VM_STACKTOP } from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { forkAddressSpace } from '../../../../src/servers/vm/fork.ts';
import { cowmap, memreq, smap, sunmap } from '../../../../src/servers/vm/memreq.ts';
import { mmapRegion, munmapRange } from '../../../../src/servers/vm/mmap.ts';
import { handleMemory, pageFault, refsOf } from '../../../../src/servers/vm/region.ts';
import { freeAddressSpace, clearSlot } from '../../../../src/servers/vm/exit.ts';
import { doRemap } from '../../../../src/servers/vm/shm.ts';
import type { VmProc } from '../../../../src/servers/vm/glo.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, fakeVmProc, fork, peek, poke, unitVm } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;
const STACK = VM_STACKTOP - 2 * PAGE;

const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);
const w = (u: UnitVm, slot: number, v: number): number => u.state.pte(u.proc(slot).endpoint, v) & PTE.W;

describe('page faults and COW (region.c map_pf)', () => {
  it('§11.10 a read of an untouched page allocates one zeroed page; the next read needs nothing', () => {
    const u = unitVm();
    const p = u.proc(1);
    const anon = u.state.snapshot().memory.anonPages;
    expect(pageFault(u.vm, p, STACK + 100, false)).toBe(OK);
    expect(u.state.snapshot().memory.anonPages).toBe(anon + 1);
    expect(peek(u, p, STACK, PAGE).every((b) => b === 0)).toBe(true);
    expect(u.state.pte(p.endpoint, STACK) & PTE.P).toBe(PTE.P);
    u.state.sanityCheck();
  });

  it('§11.17 access outside regions, a write to an smap read-only page → EFAULT (SIGSEGV); ENOMEM in a fault', () => {
    const u = unitVm({ slots: [1, 2] });
    expect(pageFault(u.vm, u.proc(1), 0x18fff000, false)).toBe(EFAULT);
    expect(smap(u.vm, u.proc(2), HEAP, u.proc(1), HEAP, PAGE, false)).toBe(OK);
    expect(pageFault(u.vm, u.proc(2), HEAP, true)).toBe(EFAULT);
    u.state.failAfter(1);
    expect(pageFault(u.vm, u.proc(1), STACK, true)).toBe(ENOMEM);
    u.state.sanityCheck();
  });

  it('§11.12 fork allocates no data pages; populated private pages are read-only in both with refcount 2', () => {
    const u = unitVm();
    const p = u.proc(1);
    poke(u, p, HEAP, fill(PAGE, 7));
    const anonBefore = u.state.snapshot().memory.anonPages;
    expect(fork(u, 1, 4)).toBe(OK);
    expect(u.state.snapshot().memory.anonPages).toBe(anonBefore);
    for (const slot of [1, 4]) {
      const ref = u.state.refAt(u.proc(slot).endpoint, HEAP);
      expect(ref?.refcount).toBe(2);
      expect(w(u, slot, HEAP)).toBe(0);
    }
    u.state.sanityCheck();
  });

  it('§11.13 the child write copies the whole block; the parent keeps its data and regains W without a copy', () => {
    const u = unitVm();
    const p = u.proc(1);
    poke(u, p, HEAP, fill(4 * PAGE, 7));
    fork(u, 1, 4);
    const c = u.proc(4);
    const free = u.state.freePages();
    expect(pageFault(u.vm, c, HEAP + PAGE, true)).toBe(OK);
    expect(u.state.freePages()).toBe(free - 4); // §11.14: the whole 4-page block
    poke(u, c, HEAP, fill(1, 9));
    expect(peek(u, p, HEAP, 1)[0]).toBe(7);
    expect(peek(u, c, HEAP + 1, 1)[0]).toBe(7);
    expect(w(u, 1, HEAP)).toBe(0);
    expect(pageFault(u.vm, p, HEAP, true)).toBe(OK);
    expect(u.state.freePages()).toBe(free - 4);
    expect(w(u, 1, HEAP)).toBe(PTE.W);
    u.state.sanityCheck();
  });

  it('§11.15 after fork a SHARED region is shared writable both ways', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(a).toBe(VM_STACKTOP);
    fork(u, 1, 4);
    const c = u.proc(4);
    expect(w(u, 1, a)).toBe(PTE.W);
    expect(w(u, 4, a)).toBe(PTE.W);
    poke(u, c, a, fill(1, 3));
    expect(peek(u, p, a, 1)[0]).toBe(3);
    u.state.sanityCheck();
  });

  it('§11.16 fork of a process holding an smap mapping: the child gets a snapshot, the parent stays live', () => {
    const u = unitVm({ slots: [1, 2] });
    const owner = u.proc(1);
    const grantee = u.proc(2);
    poke(u, owner, HEAP, fill(PAGE, 1));
    expect(smap(u.vm, grantee, HEAP, owner, HEAP, PAGE, true)).toBe(OK);
    fork(u, 2, 4);
    const child = u.proc(4);
    poke(u, owner, HEAP, fill(1, 2));
    expect(peek(u, grantee, HEAP, 1)[0]).toBe(2);
    expect(peek(u, child, HEAP, 1)[0]).toBe(1);
    expect(u.state.refAt(grantee.endpoint, HEAP)?.mode).toBe('smap');
    expect(w(u, 2, HEAP)).toBe(PTE.W);
    u.state.sanityCheck();
  });

  it('§11.18 the parent exits while sharing COW blocks: the child keeps the data and writes without a copy', () => {
    const u = unitVm();
    poke(u, u.proc(1), HEAP, fill(PAGE, 5));
    fork(u, 1, 4);
    const p = u.proc(1);
    freeAddressSpace(u.vm, p);
    clearSlot(u.vm, p);
    const c = u.proc(4);
    expect(u.state.refAt(c.endpoint, HEAP)?.refcount).toBe(1);
    const free = u.state.freePages();
    expect(pageFault(u.vm, c, HEAP, true)).toBe(OK);
    expect(u.state.freePages()).toBe(free);
    expect(peek(u, c, HEAP, 1)[0]).toBe(5);
    u.state.sanityCheck();
  });

  it('sanity off: a fork after the child exited reuses the region and reference objects of their slab slots, rebound to the new child', () => {
    const u = unitVm({ sanity: 'off' });
    const p = u.proc(1);
    for (let i = 0; i < 3; i++) poke(u, p, HEAP + i * PAGE, fill(PAGE, i + 1));
    const childRefs = (): unknown[] => u.proc(4).regions.flatMap((r) => r.refs.values());
    expect(fork(u, 1, 4)).toBe(OK);
    const first = new Set(childRefs());
    const firstRegions = new Set(u.proc(4).regions);
    const c = u.proc(4);
    freeAddressSpace(u.vm, c);
    clearSlot(u.vm, c);
    expect(fork(u, 1, 4)).toBe(OK);
    const again = u.proc(4).regions.flatMap((r) => r.refs.values().map((ref) => ({ r, ref })));
    expect(again.length).toBe(first.size);
    const regions = u.proc(4).regions;
    expect(regions.length).toBe(p.regions.length);
    regions.forEach((r, i) => {
      expect(firstRegions.has(r)).toBe(true); // the same host object, with the parent's range and an owner again
      expect(r.owner).toBe(u.proc(4));
      expect([r.vaddr, r.length, r.flags, r.tag]).toEqual([p.regions[i]?.vaddr, p.regions[i]?.length, p.regions[i]?.flags, p.regions[i]?.tag]);
      expect(r.refs.size).toBe(p.regions[i]?.refs.size);
    });
    for (const { r, ref } of again) {
      expect(first.has(ref)).toBe(true); // the same host object, placed again
      expect(ref.region).toBe(r);
      expect(refsOf(ref.block)).toContain(ref);
      expect(ref.mode).toBe('private');
    }
    for (let i = 0; i < 3; i++) {
      expect(u.state.refAt(u.proc(4).endpoint, HEAP + i * PAGE)?.refcount).toBe(2);
      expect(w(u, 4, HEAP + i * PAGE)).toBe(0);
    }
    u.state.sanityCheck();
    expect(pageFault(u.vm, u.proc(4), HEAP, true)).toBe(OK);
    expect(peek(u, u.proc(4), HEAP + PAGE, 1)[0]).toBe(2);
    expect(peek(u, p, HEAP, 1)[0]).toBe(1);
    u.state.sanityCheck();
  });

  it('sanity on: a fork after the child exited makes new region objects, and a stale one panics when read', () => {
    const u = unitVm();
    expect(fork(u, 1, 4)).toBe(OK);
    const stale = u.proc(4).regions[0];
    if (stale === undefined) throw new Error('child has no region');
    freeAddressSpace(u.vm, u.proc(4));
    clearSlot(u.vm, u.proc(4));
    expect(fork(u, 1, 4)).toBe(OK);
    expect(u.proc(4).regions.some((r) => r === stale)).toBe(false);
    expect(() => stale.vaddr).toThrow(/use after free/);
    u.state.sanityCheck();
  });

  it('§11.26 fork with each allocation failing in turn → ENOMEM, parent unchanged, slot free, no leak', () => {
    const u = unitVm();
    const p = u.proc(1);
    mmapRegion(u.vm, p, 0, 3 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    pageFault(u.vm, p, STACK, true);
    expect(forkUnwindsAtEveryAllocation(u, p)).toBeGreaterThan(3);
  });
});

/**
 * Forks slot 1 into slot 4 twice to count the allocations a fork makes (the first fork into a slot also
 * allocates its directory, kept for later forks: count on the second), then fails each one in turn: ENOMEM,
 * parent unchanged, slot free, no page lost, sanity holds. Returns the count.
 */
function forkUnwindsAtEveryAllocation(u: UnitVm, p: VmProc, afterFork: () => void = () => undefined): number {
  let total = 0;
  for (let i = 0; i < 2; i++) {
    const before = u.state.allocCount;
    expect(fork(u, 1, 4)).toBe(OK);
    total = u.state.allocCount - before;
    afterFork();
    freeAddressSpace(u.vm, u.proc(4));
    clearSlot(u.vm, u.proc(4));
  }
  for (let n = 1; n <= total; n++) {
    const pages = u.state.conservedPages();
    const snap = JSON.stringify(u.state.process(p.endpoint));
    u.state.failAfter(n);
    expect(forkAddressSpace(u.vm, p, u.proc(4))).toBe(ENOMEM);
    u.state.failAfter(null);
    expect(u.proc(4).flags).toBe(0);
    expect(JSON.stringify(u.state.process(p.endpoint))).toBe(snap);
    expect(u.state.conservedPages()).toBe(pages);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  }
  return total;
}

describe('fork unwinding with snapshots', () => {
  it('§11.26 fork of a parent holding smap and COW blocks, each allocation failing in turn → ENOMEM, no leak', () => {
    const u = unitVm({ slots: [1, 2] });
    const p = u.proc(1);
    poke(u, p, HEAP, fill(PAGE, 3));
    expect(smap(u.vm, p, HEAP + PAGE, u.proc(2), HEAP, PAGE, true)).toBe(OK);
    pageFault(u.vm, p, STACK, true);
    forkUnwindsAtEveryAllocation(u, p, () => {
      expect(u.state.refAt(u.proc(4).endpoint, HEAP + PAGE)?.mode).toBe('private'); // the snapshot
    });
  });
});

describe('CHECK (handleMemory)', () => {
  it('§11.32 across two adjacent regions → OK; across a hole → EFAULT', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, PAGE, MAP_ANON, -1);
    const b = mmapRegion(u.vm, p, 0, PAGE, MAP_ANON, -1);
    expect(b).toBe(a + PAGE);
    expect(handleMemory(u.vm, p, a + 100, PAGE, true)).toBe(OK);
    expect(handleMemory(u.vm, p, HEAP + 3 * PAGE, 2 * PAGE, false)).toBe(EFAULT);
    u.state.sanityCheck();
  });

  it('§11.32 a read CHECK fills a never-touched page and leaves a COW-shared one shared', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON, -1);
    pageFault(u.vm, p, a, true);
    fork(u, 1, 4);
    expect(memreq(u.vm, { type: 0, source: SYSTEM, reqType: VMPTYPE_CHECK, target: p.endpoint, addr: a, length: 2 * PAGE, flag: 0 })).toBe(OK);
    expect(u.state.refAt(p.endpoint, a)?.refcount).toBe(2);
    expect(u.state.refAt(p.endpoint, a + PAGE)?.refcount).toBe(1);
    u.state.sanityCheck();
  });

  it('§11.37 a request naming a dead process → EDEADSRCDST', () => {
    const u = unitVm();
    const dead = makeEndpoint(3, 1);
    expect(memreq(u.vm, { type: 0, source: SYSTEM, reqType: VMPTYPE_CHECK, target: dead, addr: HEAP, length: 4, flag: 0 })).toBe(EDEADSRCDST);
    const p = u.proc(1);
    expect(memreq(u.vm, { type: 0, source: SYSTEM, reqType: VMPTYPE_COWMAP, target: p.endpoint, addr: HEAP, length: PAGE, ep2: dead, addr2: HEAP })).toBe(EDEADSRCDST);
  });
});

describe('COWMAP, SMAP, SUNMAP', () => {
  it('COWMAP shares the source blocks read-only; a write by either side copies', () => {
    const u = unitVm({ slots: [1, 2] });
    const [s, d] = [u.proc(1), u.proc(2)];
    poke(u, s, HEAP, fill(2 * PAGE, 4));
    expect(cowmap(u.vm, d, HEAP, s, HEAP, 2 * PAGE)).toBe(OK);
    expect(u.state.refAt(d.endpoint, HEAP)?.phys).toBe(u.state.refAt(s.endpoint, HEAP)?.phys);
    expect(w(u, 1, HEAP)).toBe(0);
    expect(pageFault(u.vm, d, HEAP, true)).toBe(OK);
    poke(u, d, HEAP, fill(1, 8));
    expect(peek(u, s, HEAP, 1)[0]).toBe(4);
    expect(peek(u, d, HEAP + PAGE, 1)[0]).toBe(4);
    u.state.sanityCheck();
  });

  it('§11.33 COWMAP into a SHARED destination is a byte copy that the other sharers see', () => {
    const u = unitVm({ slots: [1, 2, 6] });
    const [s, d, other] = [u.proc(1), u.proc(2), u.proc(6)];
    const a = mmapRegion(u.vm, d, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    return doRemap(u.vm, fakeVmProc, { type: 0, source: makeEndpoint(0, d.slot), dst: other.endpoint, src: d.endpoint, dstAddr: 0, srcAddr: a, size: 0 }, d).then((r) => {
      expect(typeof r === 'object' && r.result).toBe(OK);
      const oa = typeof r === 'object' ? (r.retAddr as number) : 0;
      poke(u, s, HEAP, fill(2 * PAGE, 6));
      expect(cowmap(u.vm, d, a, s, HEAP, 2 * PAGE)).toBe(OK);
      expect(peek(u, other, oa + PAGE, 1)[0]).toBe(6);
      expect(u.state.refAt(s.endpoint, HEAP)?.refcount).toBe(1);
      u.state.sanityCheck();
    });
  });

  it('§11.34 SMAP of a COW-shared source block gives the source a private copy first', () => {
    const u = unitVm({ slots: [1, 2] });
    const [owner, grantee] = [u.proc(1), u.proc(2)];
    poke(u, owner, HEAP, fill(PAGE, 1));
    fork(u, 1, 4);
    expect(smap(u.vm, grantee, HEAP, owner, HEAP, PAGE, true)).toBe(OK);
    poke(u, grantee, HEAP, fill(1, 2));
    expect(peek(u, owner, HEAP, 1)[0]).toBe(2);
    expect(peek(u, u.proc(4), HEAP, 1)[0]).toBe(1);
    expect(u.state.refAt(u.proc(4).endpoint, HEAP)?.refcount).toBe(1);
    u.state.sanityCheck();
  });

  it('§11.35 a writable SMAP from a source whose own mapping is smap read-only → EFAULT', () => {
    const u = unitVm({ slots: [1, 2, 6] });
    expect(smap(u.vm, u.proc(2), HEAP, u.proc(1), HEAP, PAGE, false)).toBe(OK);
    expect(smap(u.vm, u.proc(6), HEAP, u.proc(2), HEAP, PAGE, true)).toBe(EFAULT);
    expect(smap(u.vm, u.proc(6), HEAP, u.proc(2), HEAP, PAGE, false)).toBe(OK);
    u.state.sanityCheck();
  });

  it('§11.36 SUNMAP leaves the grantee a private snapshot and the owner unchanged; the last smap reference reverts', () => {
    const u = unitVm({ slots: [1, 2] });
    const [owner, grantee] = [u.proc(1), u.proc(2)];
    poke(u, owner, HEAP, fill(PAGE, 1));
    expect(smap(u.vm, grantee, HEAP, owner, HEAP, PAGE, true)).toBe(OK);
    expect(sunmap(u.vm, grantee, HEAP, PAGE)).toBe(OK);
    poke(u, owner, HEAP, fill(1, 9));
    expect(peek(u, grantee, HEAP, 1)[0]).toBe(1);
    expect(u.state.refAt(owner.endpoint, HEAP)).toMatchObject({ mode: 'private', refcount: 1 });
    expect(u.state.refAt(grantee.endpoint, HEAP)).toMatchObject({ mode: 'private', refcount: 1 });
    u.state.sanityCheck();
  });

  it('SMAP into a SHARED destination or across regions → EFAULT', () => {
    const u = unitVm({ slots: [1, 2] });
    const a = mmapRegion(u.vm, u.proc(2), 0, PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(smap(u.vm, u.proc(2), a, u.proc(1), HEAP, PAGE, false)).toBe(EFAULT);
    expect(smap(u.vm, u.proc(2), HEAP, u.proc(1), HEAP, 8 * PAGE, false)).toBe(EFAULT);
    expect(cowmap(u.vm, u.proc(2), HEAP, u.proc(1), 0x18000000, PAGE)).toBe(EFAULT);
    expect(EINVAL).toBeLessThan(0);
  });
});

describe('allocation-failure injection (mmap MAP_PREALLOC, COW break, brk shrink)', () => {
  /** Runs op with the n-th allocation failing for every n up to its total; each must fail cleanly. */
  function everyFailure(u: UnitVm, op: () => number, undo: () => void, expected: number): void {
    // Twice: the first run may make page tables that later runs reuse.
    let total = 0;
    for (let i = 0; i < 2; i++) {
      const before = u.state.allocCount;
      expect(op()).toBe(OK);
      total = u.state.allocCount - before;
      undo();
    }
    expect(total).toBeGreaterThan(0);
    for (let n = 1; n <= total; n++) {
      const pages = u.state.conservedPages();
      u.state.failAfter(n);
      expect(op()).toBe(expected);
      u.state.failAfter(null);
      expect(u.state.conservedPages()).toBe(pages);
      u.vm.dirty.clear();
      u.state.sanityCheck();
    }
  }

  it('mmap(MAP_PREALLOC): ENOMEM, region removed, no leak', () => {
    const u = unitVm();
    const p = u.proc(1);
    let at = 0;
    everyFailure(
      u,
      () => {
        const r = mmapRegion(u.vm, p, 0, 4 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
        at = r;
        return r > 0 ? OK : r;
      },
      () => {
        expect(munmapRange(u.vm, p, at, 4 * PAGE)).toBe(OK);
        u.vm.dirty.clear();
      },
      ENOMEM,
    );
  });

  it('COW break: ENOMEM (SIGSEGV for the process), both sides unchanged', () => {
    const u = unitVm();
    const p = u.proc(1);
    poke(u, p, HEAP, fill(4 * PAGE, 1));
    fork(u, 1, 4);
    const c = u.proc(4);
    const before = u.state.allocCount;
    expect(pageFault(u.vm, c, HEAP, true)).toBe(OK);
    const total = u.state.allocCount - before;
    fork(u, 1, 6);
    const c2 = u.proc(6);
    for (let n = 1; n <= total; n++) {
      const pages = u.state.conservedPages();
      u.state.failAfter(n);
      expect(pageFault(u.vm, c2, HEAP, true)).toBe(ENOMEM);
      u.state.failAfter(null);
      expect(u.state.refAt(c2.endpoint, HEAP)?.refcount).toBe(2);
      expect(u.state.conservedPages()).toBe(pages);
      u.vm.dirty.clear();
      u.state.sanityCheck();
    }
  });
});
