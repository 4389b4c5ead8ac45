// Edges of VM's fork (src/servers/vm/fork.ts) beyond the checklist tests (fork_checklist.test.ts): VM_FORK's
// argument checks, what it asks of the kernel and answers, the child's vmproc fields, a region without pages, the
// parent's PTEs write-protected fork after fork (from parents of growing size and from different parents), the TLB
// marks, and the private snapshot of an smap-shared page (contiguous where its region is PHYS64K).
import { describe, expect, it } from 'vitest';
import { SYS_FORK, SYS_VMCTL, VMCTL_I386_SETCR3, VM_FORK } from '../../../../src/include/com.ts';
import { PM_PROC_NR, SYSTEM, makeEndpoint } from '../../../../src/include/endpoint.ts';
import { EINVAL, ENXIO, EPERM, OK } from '../../../../src/include/errno.ts';
import type { Message, Payload } from '../../../../src/include/ipc.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import {
  MAP_ALIGN64K,
  MAP_ANON,
  MAP_PREALLOC,
  MAP_SHARED,
  VM_PROCSTART,
  VM_STACKTOP,
} from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import type { Proc } from '../../../../src/libsys/proc.ts';
import { doFork, forkAddressSpace, forkCommit } from '../../../../src/servers/vm/fork.ts';
import { VMF_HASPT, VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import { smap } from '../../../../src/servers/vm/memreq.ts';
import { mmapRegion, munmapRange } from '../../../../src/servers/vm/mmap.ts';
import { trackChanges } from '../../../../src/servers/vm/sanity.ts';
import { pageFault } from '../../../../src/servers/vm/region.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, fork, fullAndBareVm, peek, poke, unitVm } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;

/** VM's own Proc for doFork: SYS_FORK gives the slot's next endpoint, SETCR3 answers `bind`; the calls kept. */
function kernel(bind = OK): { proc: Proc; calls: Payload[] } {
  const calls: Payload[] = [];
  const proc = {
    kernelCall: async (m: Payload): Promise<Message> => {
      calls.push(m);
      if (m.type === SYS_FORK) return { type: OK, source: SYSTEM, child: makeEndpoint(1, m.slot as number) };
      return { type: m.type === SYS_VMCTL ? bind : OK, source: SYSTEM };
    },
    notify: async () => OK,
  } as unknown as Proc;
  return { proc, calls };
}

const forkMsg = (parent: unknown, slot: unknown, name: unknown = 'kid'): Message => ({
  type: VM_FORK,
  source: PM_PROC_NR,
  endpoint: parent,
  slot,
  program: () => undefined,
  name,
});

/** The user pages (vaddr) of vmp whose PTE has W. */
function writablePages(u: UnitVm, ep: number, from: number, pages: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < pages; i++)
    if ((u.state.pte(ep, from + i * PAGE) & PTE.W) !== 0) out.push(from + i * PAGE);
  return out;
}

/** Faults in `pages` pages of a new anonymous region of slot's process one by one: one block each. */
function manyBlocks(u: UnitVm, slot: number, pages: number): number {
  const p = u.proc(slot);
  const a = mmapRegion(u.vm, p, 0, pages * PAGE, MAP_ANON, -1);
  expect(a).toBeGreaterThan(0);
  for (let i = 0; i < pages; i++) expect(pageFault(u.vm, p, a + i * PAGE, true)).toBe(OK);
  return a;
}

describe('VM_FORK: argument checks before any work', () => {
  it('an unknown parent, a slot not an integer in [0, nrProcs), a slot in use → EINVAL; a parent without page table → ENXIO', async () => {
    const u = unitVm({ slots: [1, 2] });
    const ep = u.proc(1).endpoint;
    const k = kernel();
    const before = u.state.allocCount;
    for (const [parent, slot] of [
      [makeEndpoint(0, 9), 4],
      ['1', 4],
      [ep, '4'],
      [ep, 4.5],
      [ep, -1],
      [ep, 16],
      [ep, 2],
    ] as const) {
      expect(await doFork(u.vm, k.proc, forkMsg(parent, slot)), `parent ${String(parent)} slot ${slot}`).toBe(
        EINVAL,
      );
    }
    expect(k.calls).toEqual([]);
    expect(u.state.allocCount).toBe(before);
    // The bounds themselves are free slots.
    for (const slot of [0, 15]) {
      const r = await doFork(u.vm, k.proc, forkMsg(ep, slot));
      expect(r).toEqual({ result: OK, child: makeEndpoint(1, slot) });
    }
    const state = fullAndBareVm();
    const bare = state.internals.procs[6];
    if (bare === undefined) throw new Error('no slot 6');
    expect(await doFork(state.internals, k.proc, forkMsg(bare.endpoint, 4))).toBe(ENXIO);
    expect(state.internals.procs[4]?.flags).toBe(0);
  });
});

describe('VM_FORK: the kernel calls and the answer', () => {
  it('SYS_FORK names parent, slot, program and name; SETCR3 binds the child directory; the child is not left dirty; one trace event', async () => {
    const u = unitVm({ slots: [1, 2] });
    const parent = u.proc(1);
    // A SHARED region beside the COW ones: the parent owes a flush for its COW pages all the same.
    expect(mmapRegion(u.vm, parent, 0, PAGE, MAP_ANON | MAP_SHARED, -1)).toBeGreaterThan(0);
    const k = kernel();
    const events: TraceEvent[] = [];
    u.vm.trace = (e) => events.push(e);
    u.vm.dirty.clear();
    const m = forkMsg(parent.endpoint, 4);
    const r = await doFork(u.vm, k.proc, m);
    const child = makeEndpoint(1, 4);
    expect(r).toEqual({ result: OK, child });
    expect(k.calls).toEqual([
      { type: SYS_FORK, parent: parent.endpoint, slot: 4, program: m.program, name: 'kid' },
      { type: SYS_VMCTL, request: VMCTL_I386_SETCR3, endpoint: child, frame: u.proc(4).pt.dir },
    ]);
    expect(u.proc(4).name).toBe('kid');
    expect(u.vm.dirty.has(u.proc(4))).toBe(false);
    expect(u.vm.dirty.has(parent)).toBe(true); // its private pages became read-only: a TLB flush is owed
    expect(events.filter((e) => e.kind === 'vm' && e.op === 'fork')).toEqual([
      expect.objectContaining({ kind: 'vm', op: 'fork', ep: parent.endpoint, result: child }),
    ]);
  });

  it("at sanity 'detail' the check runs once the child is committed, and names that checkpoint", async () => {
    const u = unitVm({ slots: [1, 2], sanity: 'detail' });
    trackChanges(u.vm);
    u.vm.touched?.clear();
    const first = await doFork(u.vm, kernel().proc, forkMsg(u.proc(1).endpoint, 4));
    expect(first).toEqual({ result: OK, child: makeEndpoint(1, 4) });
    expect(u.vm.touched?.size).toBe(0); // the incremental check ran and forgot what it walked
    // The child's TLB is checked there (its flush is not owed): a stale entry of its slot is reported.
    u.vm.view = {
      tlbEntries: (slot) => (slot === 5 ? [{ vpage: HEAP / PAGE, frame: 1, writable: false }] : null),
    };
    await expect(doFork(u.vm, kernel().proc, forkMsg(u.proc(1).endpoint, 5))).rejects.toThrow(
      /^VM sanity F22: slot 5 .* \[at fork: child committed\]$/,
    );
  });

  it('SETCR3 refused → its error', async () => {
    const u = unitVm({ slots: [1, 2] });
    expect(await doFork(u.vm, kernel(EPERM).proc, forkMsg(u.proc(1).endpoint, 4))).toBe(EPERM);
  });
});

describe('VM fork: the child', () => {
  it("takes the parent's name, a copy of its call mask, its phys ranges and stack top, and a heap of its own", () => {
    const u = unitVm({ slots: [1, 2] });
    const parent = u.proc(1);
    parent.physRanges = [{ base: 0xa0000, length: PAGE }];
    parent.stacktop = VM_STACKTOP - 16 * PAGE;
    const child = u.proc(4);
    expect(forkAddressSpace(u.vm, parent, child)).toBe(OK);
    expect(child.flags).toBe(VMF_INUSE | VMF_HASPT);
    expect(child.endpoint).toBe(-1); // until committed
    expect(u.vm.dirty.has(child)).toBe(true);
    expect(child.name).toBe(parent.name);
    expect(child.callMask).toEqual(parent.callMask);
    expect(child.callMask).not.toBe(parent.callMask);
    expect(child.physRanges).toEqual(parent.physRanges);
    expect(child.stacktop).toBe(parent.stacktop);
    expect(child.heap).not.toBeNull();
    expect(child.heap).not.toBe(parent.heap);
    expect(child.heap?.vaddr).toBe(HEAP);
    expect(child.heap?.owner).toBe(child);
    expect(child.regions.map((r) => [r.vaddr, r.length, r.flags, r.tag])).toEqual(
      parent.regions.map((r) => [r.vaddr, r.length, r.flags, r.tag]),
    );
    // A name that is no string keeps the parent's.
    forkCommit(u.vm, parent, child, makeEndpoint(1, 4), 7);
    expect(child.name).toBe(parent.name);
    expect(child.endpoint).toBe(makeEndpoint(1, 4));
    const second = u.proc(5);
    expect(forkAddressSpace(u.vm, parent, second)).toBe(OK);
    forkCommit(u.vm, parent, second, makeEndpoint(1, 5), 'second');
    expect(second.name).toBe('second');
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });

  it('a region without pages is copied empty; a parent without a heap gives a child without one', () => {
    const u = unitVm({ slots: [1, 2] });
    const parent = u.proc(1);
    const a = mmapRegion(u.vm, parent, 0, 3 * PAGE, MAP_ANON, -1);
    expect(a).toBeGreaterThan(0);
    parent.heap = null;
    expect(fork(u, 1, 4)).toBe(OK);
    const empty = u.proc(4).regions.find((r) => r.vaddr === a);
    expect(empty?.length).toBe(3 * PAGE);
    expect(empty?.refs.size).toBe(0);
    expect(u.proc(4).heap).toBeNull();
    u.state.sanityCheck();
  });
});

describe("VM fork: the parent's PTEs", () => {
  it('every private page of a COW region becomes read-only, fork after fork, parents of growing size, different parents', () => {
    const u = unitVm({ slots: [1, 2] });
    // A small fork first, then parents with more references than any earlier fork noted.
    expect(fork(u, 1, 4)).toBe(OK);
    for (const [slot, pages, child] of [
      [2, 40, 5],
      [1, 90, 6],
      [2, 10, 7],
    ] as const) {
      const a = manyBlocks(u, slot, pages);
      const ep = u.proc(slot).endpoint;
      expect(writablePages(u, ep, a, pages)).toHaveLength(pages);
      expect(fork(u, slot, child)).toBe(OK);
      expect(writablePages(u, ep, a, pages), `slot ${slot} after its fork into ${child}`).toEqual([]);
      expect(writablePages(u, u.proc(child).endpoint, a, pages)).toEqual([]);
      u.state.sanityCheck();
    }
  });

  it('a parent with SHARED regions only keeps its PTEs writable and owes no TLB flush', () => {
    const u = unitVm({ slots: [1, 2] });
    const parent = u.proc(1);
    for (const r of [...parent.regions]) expect(munmapRange(u.vm, parent, r.vaddr, r.length)).toBe(OK);
    const a = mmapRegion(u.vm, parent, 0, 2 * PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(a).toBeGreaterThan(0);
    u.vm.dirty.clear();
    const child = u.proc(4);
    expect(forkAddressSpace(u.vm, parent, child)).toBe(OK);
    forkCommit(u.vm, parent, child, makeEndpoint(1, 4));
    expect(u.vm.dirty.has(parent)).toBe(false);
    expect(writablePages(u, parent.endpoint, a, 2)).toHaveLength(2);
    expect(writablePages(u, child.endpoint, a, 2)).toHaveLength(2);
    u.vm.dirty.clear();
    u.state.sanityCheck();
  });
});

describe('VM fork: an smap-shared page gives the child a private snapshot', () => {
  it('but an smap-shared page of a SHARED region is shared with the child like the rest of the region', () => {
    const u = unitVm({ slots: [1, 2] });
    const [p1, p2] = [u.proc(1), u.proc(2)];
    const a = mmapRegion(u.vm, p1, 0, PAGE, MAP_ANON | MAP_SHARED, -1);
    expect(smap(u.vm, p2, HEAP, p1, a, PAGE, true)).toBe(OK);
    expect(fork(u, 1, 4)).toBe(OK);
    const child = u.proc(4);
    expect(u.state.physAddr(child.endpoint, a)).toBe(u.state.physAddr(p1.endpoint, a));
    poke(u, child, a, new Uint8Array(1).fill(0x33));
    expect([peek(u, p1, a, 1)[0], peek(u, p2, HEAP, 1)[0]]).toEqual([0x33, 0x33]);
    u.state.sanityCheck();
  });

  it('the bytes at fork time, in a frame of its own, 64 KiB-aligned in a PHYS64K region; later writes stay apart', () => {
    const u = unitVm({ slots: [1, 2] });
    const [p1, p2] = [u.proc(1), u.proc(2)];
    // An unaligned page taken first, so that an allocation without alignment would not land on a 64 KiB boundary.
    u.vm.spares.push(u.vm.alloc.allocPages(1, 0));
    const contig = mmapRegion(u.vm, p1, 0, PAGE, MAP_ANON | MAP_PREALLOC | MAP_ALIGN64K, -1);
    expect(contig).toBeGreaterThan(0);
    for (const [v, fill] of [
      [HEAP, 0x11],
      [contig, 0x22],
    ] as const) {
      poke(u, p1, v, new Uint8Array(PAGE).fill(fill));
    }
    expect(smap(u.vm, p2, HEAP, p1, HEAP, PAGE, true)).toBe(OK);
    expect(smap(u.vm, p2, HEAP + PAGE, p1, contig, PAGE, true)).toBe(OK);
    const copies = u.state.counts.cowBreaks;
    expect(fork(u, 1, 4)).toBe(OK);
    const child = u.proc(4);
    for (const [v, fill] of [
      [HEAP, 0x11],
      [contig, 0x22],
    ] as const) {
      const ref = u.state.refAt(child.endpoint, v);
      expect(ref?.mode).toBe('private');
      expect(ref?.refcount).toBe(1);
      expect(u.state.physAddr(child.endpoint, v)).not.toBe(u.state.physAddr(p1.endpoint, v));
      expect(peek(u, child, v, PAGE)).toEqual(new Uint8Array(PAGE).fill(fill));
      // Mapped writable in the child at once: its own page.
      expect(u.state.pte(child.endpoint, v) & PTE.W).toBe(PTE.W);
    }
    expect(u.state.physAddr(child.endpoint, contig) % (64 * 1024)).toBe(0);
    expect(u.state.physAddr(child.endpoint, HEAP) % (64 * 1024)).not.toBe(0);
    expect(u.state.counts.cowBreaks).toBe(copies);
    // The parent's own smap pages keep W: only its private pages became read-only.
    for (const v of [HEAP, contig]) expect(u.state.pte(p1.endpoint, v) & PTE.W).toBe(PTE.W);
    expect(u.state.pte(p1.endpoint, HEAP + PAGE) & PTE.W).toBe(0);
    // The parent and its smap partner still share; the child's copy keeps the old bytes.
    poke(u, p2, HEAP, Uint8Array.of(0x99));
    expect(peek(u, p1, HEAP, 1)[0]).toBe(0x99);
    expect(peek(u, child, HEAP, 1)[0]).toBe(0x11);
    u.state.sanityCheck();
  });
});
