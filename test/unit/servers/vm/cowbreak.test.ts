// The cowBreak switch (region.ts breakCow): 'block' (MINIX) copies a whole COW-shared block on the first write,
// 'page' splits it and copies only the pages written. Same bytes and codes in both; frames, breaks and pages copied
// differ. Covers page faults after fork, CHECK writes, COW safecopy destinations (COWMAP), a contiguous region, and
// a break with memory short (every allocation failing in turn; SIGSEGV through a running system). Sanity on.
import { describe, expect, it } from 'vitest';
import { ENOMEM, OK, SIGSEGV } from '../../../../src/include/errno.ts';
import type { TraceEvent } from '../../../../src/include/trace.ts';
import { MAP_ANON, MAP_PREALLOC, VM_PROCSTART, VR_PHYS64K } from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import type { VmConfig } from '../../../../src/servers/vm/glo.ts';
import { cowmap } from '../../../../src/servers/vm/memreq.ts';
import { mmapRegion } from '../../../../src/servers/vm/mmap.ts';
import { findRegion, handleMemory, pageFault } from '../../../../src/servers/vm/region.ts';
import { vmMmap } from '../../../../src/libsys/vm.ts';
import { createSystem } from '../../../../src/sim/system.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, fork, peek, poke, unitVm } from './helpers.ts';

const HEAP = VM_PROCSTART + 4 * PAGE;
const MODES: VmConfig['cowBreak'][] = ['block', 'page'];
const fill = (n: number, b: number): Uint8Array => new Uint8Array(n).fill(b);

/** A VM in `mode` whose slot 1 has its 4-page heap block filled with 1, forked into slot 4; VM trace events kept. */
function forked(mode: VmConfig['cowBreak']): { u: UnitVm; events: TraceEvent[] } {
  const u = unitVm({ cowBreak: mode });
  const events: TraceEvent[] = [];
  u.vm.trace = (e) => {
    events.push(e);
  };
  poke(u, u.proc(1), HEAP, fill(4 * PAGE, 1));
  expect(fork(u, 1, 4)).toBe(OK);
  return { u, events };
}

/** Copies made since `before` (VmState.counts) and the pages of the cow-break trace events. */
function copied(u: UnitVm, before: { cowBreaks: number; cowPagesCopied: number }, events: TraceEvent[]) {
  const breaks = events.filter((e) => e.kind === 'vm' && e.op === 'cow-break');
  return {
    breaks: u.state.counts.cowBreaks - before.cowBreaks,
    pages: u.state.counts.cowPagesCopied - before.cowPagesCopied,
    tracedPages: breaks.reduce((n, e) => n + (e.kind === 'vm' ? (e.pages ?? 0) : 0), 0),
  };
}

/** Lengths in pages of the blocks of ep's region at vaddr, in order. */
const blockPages = (u: UnitVm, ep: number, vaddr: number, pages: number): number[] => {
  const out: number[] = [];
  for (let v = vaddr; v < vaddr + pages * PAGE;) {
    const ref = u.state.refAt(ep, v);
    if (ref === null) throw new Error('hole');
    out.push(ref.length / PAGE);
    v = ref.vaddr + ref.length;
  }
  return out;
};

describe('cowBreak: a write to one page of a 4-page COW-shared block after fork', () => {
  it.each([
    ['block', 4, [4]],
    ['page', 1, [1, 1, 2]],
  ] as const)('%s copies %i page(s); the bytes are the same', (mode, pages, parentBlocks) => {
    const { u, events } = forked(mode);
    const child = u.proc(4);
    const parent = u.proc(1);
    const free = u.state.freePages();
    const before = { ...u.state.counts };
    expect(pageFault(u.vm, child, HEAP + PAGE, true)).toBe(OK);
    u.state.sanityCheck();
    expect(u.state.freePages()).toBe(free - pages);
    expect(copied(u, before, events)).toEqual({ breaks: 1, pages, tracedPages: pages });
    expect(blockPages(u, parent.endpoint, HEAP, 4)).toEqual(parentBlocks);
    // The child writes its page; both sides read their own bytes everywhere.
    poke(u, child, HEAP + PAGE, fill(PAGE, 9));
    expect(peek(u, child, HEAP, 4 * PAGE)).toEqual(
      Uint8Array.from([...fill(PAGE, 1), ...fill(PAGE, 9), ...fill(2 * PAGE, 1)]),
    );
    expect(peek(u, parent, HEAP, 4 * PAGE)).toEqual(fill(4 * PAGE, 1));
    // The written page is private to the child in both modes: the parent writing it regains W, no copy.
    expect(u.state.refAt(parent.endpoint, HEAP + PAGE)?.refcount).toBe(1);
    expect(pageFault(u.vm, parent, HEAP + PAGE, true)).toBe(OK);
    expect(u.state.pte(parent.endpoint, HEAP + PAGE) & PTE.W).toBe(PTE.W);
    expect(u.state.freePages()).toBe(free - pages);
    u.state.sanityCheck();
  });

  it('page: writing the other pages in turn copies one page each; block: the second side copies nothing', () => {
    for (const mode of MODES) {
      const { u, events } = forked(mode);
      const before = { ...u.state.counts };
      for (let i = 0; i < 4; i++) {
        expect(pageFault(u.vm, u.proc(4), HEAP + i * PAGE, true)).toBe(OK);
        u.state.sanityCheck();
      }
      for (let i = 0; i < 4; i++) expect(pageFault(u.vm, u.proc(1), HEAP + i * PAGE, true)).toBe(OK);
      u.state.sanityCheck();
      const want =
        mode === 'block' ? { breaks: 1, pages: 4, tracedPages: 4 } : { breaks: 4, pages: 4, tracedPages: 4 };
      expect(copied(u, before, events)).toEqual(want);
      for (const slot of [1, 4]) expect(u.state.refAt(u.proc(slot).endpoint, HEAP)?.refcount).toBe(1);
    }
  });

  it('a CHECK write of pages 1–2 copies the block (block) or those two pages (page)', () => {
    for (const mode of MODES) {
      const { u, events } = forked(mode);
      const before = { ...u.state.counts };
      expect(handleMemory(u.vm, u.proc(4), HEAP + PAGE + 10, PAGE, true)).toBe(OK);
      u.state.sanityCheck();
      expect(copied(u, before, events).pages).toBe(mode === 'block' ? 4 : 2);
      expect(blockPages(u, u.proc(4).endpoint, HEAP, 4)).toEqual(mode === 'block' ? [4] : [1, 2, 1]);
      expect(peek(u, u.proc(4), HEAP, 4 * PAGE)).toEqual(fill(4 * PAGE, 1));
    }
  });

  it('a PHYS64K region keeps its blocks contiguous: the whole block is copied in both modes', () => {
    for (const mode of MODES) {
      const u = unitVm({ cowBreak: mode });
      const p = u.proc(1);
      const a = mmapRegion(u.vm, p, 0, 4 * PAGE, MAP_ANON | MAP_PREALLOC, -1);
      const r = findRegion(p, a);
      if (r === null) throw new Error('no region');
      // No mmap flag asks for PHYS64K in the model; the region kind is what matters here.
      u.vm.slab.use(r, () => {
        r.flags |= VR_PHYS64K;
      });
      fork(u, 1, 4);
      const before = u.state.counts.cowPagesCopied;
      expect(pageFault(u.vm, u.proc(4), a + PAGE, true)).toBe(OK);
      expect(u.state.counts.cowPagesCopied - before).toBe(4);
      u.state.sanityCheck();
    }
  });
});

describe('cowBreak: COW safecopy destinations (COWMAP of page-aligned ranges shares the blocks)', () => {
  it.each([
    ['block', 4, 4],
    ['page', 1, 2],
  ] as const)(
    '%s: a destination write copies %i page(s), then a source write %i in all',
    (mode, first, total) => {
      const u = unitVm({ cowBreak: mode, slots: [1, 2] });
      const src = u.proc(1);
      const dst = u.proc(2);
      poke(
        u,
        src,
        HEAP,
        Uint8Array.from({ length: 4 * PAGE }, (_, i) => i % 251),
      );
      expect(cowmap(u.vm, dst, HEAP, src, HEAP, 4 * PAGE)).toBe(OK);
      u.vm.dirty.clear();
      expect(u.state.refAt(dst.endpoint, HEAP)?.phys).toBe(u.state.refAt(src.endpoint, HEAP)?.phys);
      const before = u.state.counts.cowPagesCopied;
      expect(pageFault(u.vm, dst, HEAP + 2 * PAGE, true)).toBe(OK);
      u.state.sanityCheck();
      expect(u.state.counts.cowPagesCopied - before).toBe(first);
      poke(u, dst, HEAP + 2 * PAGE, fill(PAGE, 0xee));
      // The source writes page 3: still shared in 'page' mode (one more page), private already in 'block' mode.
      expect(pageFault(u.vm, src, HEAP + 3 * PAGE, true)).toBe(OK);
      u.state.sanityCheck();
      expect(u.state.counts.cowPagesCopied - before).toBe(total);
      poke(u, src, HEAP + 3 * PAGE, fill(PAGE, 0x11));
      const srcBytes = peek(u, src, HEAP, 4 * PAGE);
      const dstBytes = peek(u, dst, HEAP, 4 * PAGE);
      expect(srcBytes.subarray(2 * PAGE, 3 * PAGE).every((b, i) => b === (2 * PAGE + i) % 251)).toBe(true);
      expect(dstBytes.subarray(2 * PAGE, 3 * PAGE).every((b) => b === 0xee)).toBe(true);
      expect(dstBytes.subarray(3 * PAGE).every((b, i) => b === (3 * PAGE + i) % 251)).toBe(true);
      expect(srcBytes.subarray(3 * PAGE).every((b) => b === 0x11)).toBe(true);
    },
  );
});

describe('cowBreak with memory short: ENOMEM, nothing copied, sharing intact', () => {
  it.each(MODES)(
    '%s: each allocation of the break failing in turn → ENOMEM, no frame lost, checks pass',
    (mode) => {
      const probe = forked(mode).u;
      const start = probe.state.allocCount;
      expect(pageFault(probe.vm, probe.proc(4), HEAP + PAGE, true)).toBe(OK);
      const total = probe.state.allocCount - start;
      expect(total).toBeGreaterThan(0);
      for (let n = 1; n <= total; n++) {
        const { u } = forked(mode);
        const child = u.proc(4);
        const pages = u.state.conservedPages();
        u.state.failAfter(n);
        expect(pageFault(u.vm, child, HEAP + PAGE, true)).toBe(ENOMEM);
        u.state.failAfter(null);
        expect(u.state.refAt(child.endpoint, HEAP + PAGE)?.refcount).toBe(2);
        expect(u.state.pte(child.endpoint, HEAP + PAGE) & PTE.W).toBe(0);
        expect(u.state.conservedPages()).toBe(pages);
        expect(u.state.counts.cowBreaks).toBe(0);
        u.vm.dirty.clear();
        u.state.sanityCheck();
        // Memory back: the same write now succeeds.
        expect(pageFault(u.vm, child, HEAP + PAGE, true)).toBe(OK);
        u.state.sanityCheck();
      }
    },
  );

  it.each(MODES)(
    '%s: in a running system the failed break kills the child with SIGSEGV; the parent keeps its data',
    async (mode) => {
      const sys = await createSystem({
        sanity: 'functions',
        ramBytes: 16 * 1024 * 1024,
        nrProcs: 32,
        cowBreak: mode,
        trace: null,
      });
      let childExit: { code: number; signal: number } | null = null;
      const h = sys.spawn(async (p) => {
        const a = await vmMmap(p, 0, 4 * PAGE, MAP_ANON | MAP_PREALLOC);
        await p.write(a, fill(4 * PAGE, 5));
        await p.fork(async (c) => {
          sys.vm.failAfter(1);
          await c.writeU8(a + PAGE, 9);
          return 0;
        });
        const w = await p.wait();
        childExit = { code: w.code, signal: w.signal };
        sys.vm.failAfter(null);
        const back = await p.read(a, 4 * PAGE);
        return back.every((b) => b === 5) ? 0 : 1;
      });
      await sys.run();
      expect(childExit).toEqual({ code: 0, signal: SIGSEGV });
      expect(h.exit).toEqual({ code: 0, signal: 0 });
      expect(sys.vm.counts.cowBreaks).toBe(0);
      sys.sanityCheck();
    },
  );
});
