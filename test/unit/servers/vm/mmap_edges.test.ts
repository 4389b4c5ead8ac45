// Edge cases of VM's mmap family (src/servers/vm/mmap.ts) on a booted unit VM: first-fit placement at the edges of
// regions and of the address space, MAP_FIXED's limits, the region flags of each MAP_ flag, message fields that are
// missing or not integers, the trace events, munmap's cuts (heap tag, offsets, PTEs) and its failures with nothing
// removed, and map_phys / unmap_phys permissions and limits.
import { describe, expect, it } from 'vitest';
import { EFAULT, EINVAL, ENOMEM, ENOSYS, ENXIO, EPERM, OK } from '../../../../src/include/errno.ts';
import { SELF, makeEndpoint } from '../../../../src/include/endpoint.ts';
import {
  MAP_ALIGN64K,
  MAP_ANON,
  MAP_FIXED,
  MAP_LOWER16M,
  MAP_LOWER1M,
  MAP_PREALLOC,
  MAP_SHARED,
  VM_DATATOP,
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
  VRT_HEAP,
  VRT_NONE,
} from '../../../../src/include/vm.ts';
import type { VmProc } from '../../../../src/servers/vm/glo.ts';
import { VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import {
  doMapPhys,
  doMmap,
  doMunmap,
  doUnmapPhys,
  findSlot,
  mmapRegion,
  munmapRange,
  overlapsRegion,
  targetOf,
} from '../../../../src/servers/vm/mmap.ts';
import type { UnitVm } from './helpers.ts';
import { msg, res, field, traced } from './calls.ts';
import { PAGE, fakeVmProc, peek, poke, unitVm } from './helpers.ts';

/** Slot 1: text PROCSTART+0..4 pages, heap +4..8, stack the two pages below VM_STACKTOP. */
const HEAP_END = VM_PROCSTART + 8 * PAGE;
const spans = (u: UnitVm, p: VmProc): number[][] =>
  u.state.regions(p.endpoint).map((r) => [r.vaddr, r.length / PAGE, r.tag]);

describe('mmap edges: placement', () => {
  it('findSlot: the first gap that fits exactly, skipping regions that end at the start; none past VM_DATATOP', () => {
    const u = unitVm();
    const p = u.proc(1);
    expect(mmapRegion(u.vm, p, HEAP_END + 2 * PAGE, PAGE, MAP_ANON | MAP_FIXED, -1)).toBe(
      HEAP_END + 2 * PAGE,
    );
    expect(findSlot(p, VM_PROCSTART, 2 * PAGE)).toBe(HEAP_END);
    expect(findSlot(p, VM_PROCSTART, 3 * PAGE)).toBe(HEAP_END + 3 * PAGE);
    expect(findSlot(p, HEAP_END + PAGE, PAGE)).toBe(HEAP_END + PAGE);
    expect(findSlot(p, VM_DATATOP - PAGE, PAGE)).toBe(VM_DATATOP - PAGE);
    expect(findSlot(p, VM_DATATOP - PAGE, 2 * PAGE)).toBe(-1);
    expect(overlapsRegion(p, HEAP_END, 2 * PAGE)).toBe(false);
    expect(overlapsRegion(p, HEAP_END - PAGE, PAGE)).toBe(true);
    expect(overlapsRegion(p, HEAP_END + PAGE, 2 * PAGE)).toBe(true);
    expect(overlapsRegion(p, HEAP_END + 3 * PAGE, PAGE)).toBe(false);
  });

  it('MAP_FIXED: inside [VM_PROCSTART, VM_DATATOP), aligned, not 0, not over a region', () => {
    const u = unitVm();
    const p = u.proc(1);
    const fixed = (addr: number, len = PAGE): number =>
      mmapRegion(u.vm, p, addr, len, MAP_ANON | MAP_FIXED, -1);
    expect(fixed(0)).toBe(EINVAL);
    expect(fixed(HEAP_END + 0.5)).toBe(EINVAL);
    expect(fixed(VM_PROCSTART - PAGE)).toBe(EINVAL);
    expect(fixed(VM_DATATOP - PAGE, 2 * PAGE)).toBe(EINVAL);
    expect(fixed(VM_DATATOP - PAGE)).toBe(VM_DATATOP - PAGE);
    expect(fixed(HEAP_END - PAGE)).toBe(ENOMEM);
    expect(fixed(HEAP_END)).toBe(HEAP_END);
    expect(fixed(VM_STACKTOP - 3 * PAGE)).toBe(VM_STACKTOP - 3 * PAGE);
    // VM_PROCSTART itself, once the text there is gone.
    expect(munmapRange(u.vm, p, VM_PROCSTART, 4 * PAGE)).toBe(OK);
    expect(fixed(VM_PROCSTART)).toBe(VM_PROCSTART);
  });

  it('a hint is rounded down and lifted to VM_PROCSTART; no hint starts at the stack top; no room → ENOMEM', () => {
    const u = unitVm();
    const p = u.proc(1);
    expect(mmapRegion(u.vm, p, VM_PROCSTART - 5 * PAGE, PAGE, MAP_ANON, -1)).toBe(HEAP_END);
    expect(mmapRegion(u.vm, p, HEAP_END + 2 * PAGE + 1, PAGE, MAP_ANON, -1)).toBe(HEAP_END + 2 * PAGE);
    p.stacktop = VM_STACKTOP + 16 * PAGE;
    expect(mmapRegion(u.vm, p, 0, PAGE, MAP_ANON, -1)).toBe(VM_STACKTOP + 16 * PAGE);
    expect(mmapRegion(u.vm, p, VM_DATATOP - PAGE, 2 * PAGE, MAP_ANON, -1)).toBe(ENOMEM);
  });

  it('each MAP_ flag gives its region flag; MAP_SHARED and MAP_PREALLOC are present at once, plain anon is not', () => {
    const u = unitVm({ ramMiB: 32 });
    const p = u.proc(1);
    const cases: [number, number, number][] = [
      [0, VR_ANON | VR_WRITABLE, 0],
      [MAP_SHARED, VR_ANON | VR_WRITABLE | VR_SHARED, 1],
      [MAP_PREALLOC | MAP_LOWER16M, VR_ANON | VR_WRITABLE | VR_LOWER16MB, 1],
      [MAP_PREALLOC | MAP_LOWER1M, VR_ANON | VR_WRITABLE | VR_LOWER1MB, 1],
      [MAP_PREALLOC | MAP_ALIGN64K, VR_ANON | VR_WRITABLE | VR_PHYS64K, 1],
    ];
    for (const [flags, vr, blocks] of cases) {
      const a = mmapRegion(u.vm, p, 0, 2 * PAGE, MAP_ANON | flags, -1);
      const r = u.state.regions(p.endpoint).find((x) => x.vaddr === a);
      expect([r?.flags, r?.tag, r?.refs.length]).toEqual([vr, VRT_NONE, blocks]);
    }
    u.state.sanityCheck();
  });
});

describe('mmap edges: arguments and failures', () => {
  it('lengths that are not positive integers up to VM_DATATOP → EINVAL; a byte maps a page', () => {
    const u = unitVm();
    const p = u.proc(1);
    for (const len of [1.5, -PAGE, 0, VM_DATATOP + 1])
      expect(mmapRegion(u.vm, p, 0, len, MAP_ANON, -1)).toBe(EINVAL);
    expect(mmapRegion(u.vm, p, 0, VM_DATATOP, MAP_ANON, -1)).toBe(ENOMEM);
    const a = mmapRegion(u.vm, p, 0, 1, MAP_ANON, -1);
    expect(u.state.regions(p.endpoint).find((r) => r.vaddr === a)?.length).toBe(PAGE);
  });

  it('doMmap: a missing fd is -1, a fractional fd is refused, a bad flags or addr field counts as 0; trace event', () => {
    const u = unitVm();
    const p = u.proc(1);
    const events = traced(u, 'mmap');
    const ok = doMmap(u.vm, msg({ len: PAGE + 1, flags: 'x', addr: 'y' }), p);
    expect(ok).toEqual({ result: OK, retAddr: VM_STACKTOP });
    expect(res(doMmap(u.vm, msg({ len: PAGE, flags: MAP_ANON, fd: 1.5 }), p))).toBe(EINVAL);
    expect(res(doMmap(u.vm, msg({ len: PAGE, flags: 0, fd: 1.5 }), p))).toBe(ENOSYS);
    expect(res(doMmap(u.vm, msg({ len: 'z', flags: MAP_ANON }), p))).toBe(EINVAL);
    expect(events.map((e) => (e.kind === 'vm' ? [e.ep, e.vaddr, e.pages, e.result] : []))).toEqual([
      [p.endpoint, VM_STACKTOP, 2, OK],
      [p.endpoint, EINVAL, 1, EINVAL],
      [p.endpoint, ENOSYS, 1, ENOSYS],
      [p.endpoint, EINVAL, 0, EINVAL],
    ]);
  });

  it('every allocation of a MAP_PREALLOC or MAP_SHARED mmap failing in turn → ENOMEM with no region left', () => {
    for (const flags of [MAP_PREALLOC, MAP_SHARED]) {
      const u = unitVm();
      const p = u.proc(1);
      const before = spans(u, p);
      const anon = u.state.snapshot().memory.anonPages;
      let k = 1;
      for (; ; k++) {
        u.state.failAfter(k);
        const r = mmapRegion(u.vm, p, 0, 3 * PAGE, MAP_ANON | flags, -1);
        u.state.failAfter(null);
        if (r !== ENOMEM) break;
        expect(spans(u, p)).toEqual(before);
        expect(u.state.snapshot().memory.anonPages).toBe(anon);
      }
      expect(k).toBeGreaterThan(2);
      u.state.sanityCheck();
    }
  });
});

describe('munmap edges', () => {
  it('a middle cut of the heap moves the heap to the upper part; head and tail cuts keep offsets and data', () => {
    const u = unitVm();
    const p = u.proc(1);
    const heap = VM_PROCSTART + 4 * PAGE;
    expect(munmapRange(u.vm, p, heap + PAGE, PAGE)).toBe(OK);
    const regs = u.state.regions(p.endpoint);
    expect(
      regs
        .filter((r) => r.vaddr >= heap && r.vaddr < HEAP_END)
        .map((r) => [r.vaddr, r.length, r.tag, r.isHeap]),
    ).toEqual([
      [heap, PAGE, VRT_NONE, false],
      [heap + 2 * PAGE, 2 * PAGE, VRT_HEAP, true],
    ]);
    expect(p.heap?.vaddr).toBe(heap + 2 * PAGE);
    expect(u.vm.dirty.has(p)).toBe(true);
    expect(u.state.pte(p.endpoint, heap + PAGE)).toBe(0);
    // A head cut of a preallocated region: the rest keeps its data and starts at offset 0.
    const a = mmapRegion(u.vm, p, 0, 4 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    for (let i = 0; i < 4; i++) poke(u, p, a + i * PAGE, new Uint8Array([10 + i]));
    expect(munmapRange(u.vm, p, a, 2 * PAGE)).toBe(OK);
    const r = u.state.regions(p.endpoint).find((x) => x.vaddr === a + 2 * PAGE);
    expect([r?.length, r?.refs.map((x) => x.offset)]).toEqual([2 * PAGE, [0]]);
    expect([peek(u, p, a + 2 * PAGE, 1)[0], peek(u, p, a + 3 * PAGE, 1)[0]]).toEqual([12, 13]);
    expect(munmapRange(u.vm, p, a + 3 * PAGE, PAGE)).toBe(OK);
    expect(u.state.regions(p.endpoint).find((x) => x.vaddr === a + 2 * PAGE)?.length).toBe(PAGE);
    expect(munmapRange(u.vm, p, a + 2 * PAGE, 2 * PAGE)).toBe(EFAULT);
    expect(munmapRange(u.vm, p, a + 2 * PAGE, PAGE)).toBe(OK);
    expect(u.state.regions(p.endpoint).some((x) => x.vaddr === a + 2 * PAGE)).toBe(false);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('every allocation of a middle cut failing in turn → ENOMEM, nothing removed', () => {
    const u = unitVm();
    const p = u.proc(1);
    const a = mmapRegion(u.vm, p, 0, 6 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
    for (let i = 0; i < 6; i++) poke(u, p, a + i * PAGE, new Uint8Array([i + 1]));
    let k = 1;
    for (; ; k++) {
      const before = spans(u, p);
      u.state.failAfter(k);
      const r = munmapRange(u.vm, p, a + 2 * PAGE, 2 * PAGE);
      u.state.failAfter(null);
      if (r === OK) break;
      expect(r).toBe(ENOMEM);
      expect(spans(u, p)).toEqual(before);
      expect([...peek(u, p, a, 6 * PAGE)].filter((_, i) => i % PAGE === 0)).toEqual([1, 2, 3, 4, 5, 6]);
    }
    expect(k).toBeGreaterThan(2);
    expect(spans(u, p).filter((s) => (s[0] ?? 0) >= a)).toEqual([
      [a, 2, VRT_NONE],
      [a + 4 * PAGE, 2, VRT_NONE],
    ]);
    expect(peek(u, p, a + 5 * PAGE, 1)[0]).toBe(6);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('doMunmap: no page table → ENXIO; fields that are not integers → EFAULT; the length rounds up; trace event', () => {
    const u = unitVm();
    const p = u.proc(1);
    const events = traced(u, 'munmap');
    const a = mmapRegion(u.vm, p, 0, 3 * PAGE, MAP_ANON, -1);
    expect(res(doMunmap(u.vm, msg({ addr: String(a), len: PAGE }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: a, len: 1.5 }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: a, len: -PAGE }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: a, len: 0 }), p))).toBe(EFAULT);
    expect(res(doMunmap(u.vm, msg({ addr: a, len: PAGE + 1 }), p))).toBe(OK);
    expect(u.state.regions(p.endpoint).find((r) => r.vaddr === a + 2 * PAGE)?.length).toBe(PAGE);
    expect(events.map((e) => (e.kind === 'vm' ? [e.ep, e.vaddr, e.pages, e.result] : []))).toEqual([
      [p.endpoint, a, 2, OK],
    ]);
    const bare = u.proc(9);
    bare.flags = VMF_INUSE;
    expect(res(doMunmap(u.vm, msg({ addr: a, len: PAGE }), bare))).toBe(ENXIO);
  });
});

describe('map_phys edges', () => {
  const phys = (u: UnitVm, caller: VmProc, f: Record<string, unknown>) =>
    doMapPhys(u.vm, fakeVmProc, msg({ endpoint: SELF, ...f }), caller);

  it('targetOf: SELF is the caller, a live endpoint its process, anything else null', () => {
    const u = unitVm();
    const p = u.proc(1);
    expect(targetOf(u.vm, SELF, p)).toBe(p);
    expect(targetOf(u.vm, u.proc(2).endpoint, p)).toBe(u.proc(2));
    expect(targetOf(u.vm, makeEndpoint(3, 2), p)).toBe(null);
  });

  it('a process maps only inside its granted ranges, for itself; tty for anyone; the memory driver for itself', async () => {
    const u = unitVm({ slots: [1, 3, 5] });
    const [user, memory, tty] = [u.proc(1), u.proc(3), u.proc(5)];
    user.physRanges = [{ base: 0xa0000, length: 2 * PAGE }];
    expect(res(await phys(u, user, { phys: 0xa0000, len: 2 * PAGE }))).toBe(OK);
    expect(res(await phys(u, user, { phys: 0xa1000, len: PAGE }))).toBe(OK);
    expect(res(await phys(u, user, { phys: 0xa1000, len: PAGE + 1 }))).toBe(EPERM);
    expect(res(await phys(u, user, { phys: 0x9f000, len: PAGE }))).toBe(EPERM);
    expect(res(await phys(u, user, { endpoint: memory.endpoint, phys: 0xa0000, len: PAGE }))).toBe(EPERM);
    expect(res(await phys(u, memory, { endpoint: user.endpoint, phys: 0xa0000, len: PAGE }))).toBe(EPERM);
    const forMem = await phys(u, tty, { endpoint: memory.endpoint, phys: 0xa0000, len: PAGE });
    expect(res(forMem)).toBe(OK);
    const r = u.state.regions(memory.endpoint).find((x) => x.vaddr === field(forMem, 'vaddr'));
    expect([r?.flags, r?.length, r?.refs[0]?.phys]).toEqual([
      VR_DIRECT | VR_NOPF | VR_WRITABLE,
      PAGE,
      0xa0000,
    ]);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('refuses a dead target, fields that are not integers, no page table, bad ranges, no room, and fails cleanly', async () => {
    const u = unitVm({ slots: [1, 3, 5] });
    const [memory, tty] = [u.proc(3), u.proc(5)];
    expect(res(await phys(u, tty, { endpoint: makeEndpoint(2, 1), phys: 0xa0000, len: PAGE }))).toBe(EINVAL);
    expect(res(await phys(u, memory, { phys: '0xa0000', len: PAGE }))).toBe(EINVAL);
    expect(res(await phys(u, memory, { phys: 0xa0000, len: 0.5 }))).toBe(EINVAL);
    const bare = u.proc(9);
    bare.flags = VMF_INUSE;
    bare.endpoint = makeEndpoint(0, 9);
    expect(res(await phys(u, tty, { endpoint: bare.endpoint, phys: 0xa0000, len: PAGE }))).toBe(ENXIO);
    for (const [p, len] of [
      [0xa0000, 0],
      [-PAGE, PAGE],
      [0x1_0000_0000 - PAGE, PAGE + 1],
    ]) {
      expect(res(await phys(u, memory, { phys: p, len }))).toBe(EINVAL);
    }
    // The last page below 4 GiB is a physical address like any other (a device's memory).
    expect(res(await phys(u, memory, { phys: 0x1_0000_0000 - PAGE, len: PAGE }))).toBe(OK);
    expect(res(await phys(u, memory, { phys: 0, len: PAGE }))).toBe(OK);
    for (const k of [1, 2]) {
      const before = spans(u, memory);
      u.state.failAfter(k);
      expect(res(await phys(u, memory, { phys: 0xa0000, len: PAGE }))).toBe(ENOMEM);
      u.state.failAfter(null);
      expect(spans(u, memory)).toEqual(before);
    }
    memory.stacktop = VM_DATATOP;
    expect(res(await phys(u, memory, { phys: 0xa0000, len: PAGE }))).toBe(ENOMEM);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('unmap_phys: a dead target, an address that is not an integer, no region or an anonymous one → EINVAL', async () => {
    const u = unitVm({ slots: [1, 3, 5] });
    const memory = u.proc(3);
    const unmap = (f: Record<string, unknown>) =>
      doUnmapPhys(u.vm, fakeVmProc, msg({ endpoint: SELF, ...f }), memory);
    const v = field(await phys(u, memory, { phys: 0xa0000, len: PAGE }), 'vaddr') as number;
    expect(res(await unmap({ endpoint: makeEndpoint(4, 1), vaddr: v }))).toBe(EINVAL);
    expect(res(await unmap({ vaddr: String(v) }))).toBe(EINVAL);
    expect(res(await unmap({ vaddr: v + 2 * PAGE }))).toBe(EINVAL);
    expect(res(await unmap({ vaddr: VM_PROCSTART }))).toBe(EINVAL);
    expect(res(await unmap({ vaddr: v }))).toBe(OK);
    expect(u.state.regions(memory.endpoint).some((r) => r.vaddr === v)).toBe(false);
  });
});
