// Model-based test of the VM server (spec/vm.md §11 item 45): random sequences of mmap, munmap, brk, fork, exec,
// exit, touch (read or write one byte) and kill, driven on VM's core operations at sanity 'detail', with the full
// check after every step, a byte-level model of every process's memory (COW copies, SHARED regions seen by all
// sharers, zero fill), and page conservation once every process of the workload has exited; in either cowBreak mode.
// Not covered here: safecopy, safemap and revoke (they need the kernel's grant tables; see the grant tests).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { EFAULT, ENOMEM, OK } from '../../../../src/include/errno.ts';
import { makeEndpoint } from '../../../../src/include/endpoint.ts';
import { MAP_ANON, MAP_PREALLOC, MAP_SHARED, VR_SHARED } from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import { refillSpares } from '../../../../src/servers/vm/boot.ts';
import { brkCore } from '../../../../src/servers/vm/break.ts';
import { execNewmem } from '../../../../src/servers/vm/exec.ts';
import { clearSlot, freeAddressSpace } from '../../../../src/servers/vm/exit.ts';
import { forkAddressSpace, forkCommit } from '../../../../src/servers/vm/fork.ts';
import type { VmProc } from '../../../../src/servers/vm/glo.ts';
import { VMF_INUSE } from '../../../../src/servers/vm/glo.ts';
import { mmapRegion, munmapRange } from '../../../../src/servers/vm/mmap.ts';
import { findRegion, pageFault } from '../../../../src/servers/vm/region.ts';
import type { UnitVm } from './helpers.ts';
import { PAGE, peek, poke, unitVm } from './helpers.ts';

type Op =
  | { t: 'mmap'; p: number; pages: number; flags: 'lazy' | 'prealloc' | 'shared' }
  | { t: 'munmap'; p: number; r: number; from: number; len: number }
  | { t: 'brk'; p: number; delta: number }
  | { t: 'fork'; p: number }
  | { t: 'exec'; p: number; text: number; data: number }
  | { t: 'exit'; p: number }
  | { t: 'touch'; p: number; r: number; page: number; write: boolean; value: number }
  | { t: 'kill'; p: number };

const nat = fc.nat({ max: 1000 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ t: fc.constant('mmap' as const), p: nat, pages: fc.integer({ min: 1, max: 6 }), flags: fc.constantFrom('lazy' as const, 'prealloc' as const, 'shared' as const) }), weight: 2 },
  fc.record({ t: fc.constant('munmap' as const), p: nat, r: nat, from: nat, len: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ t: fc.constant('brk' as const), p: nat, delta: fc.integer({ min: -3, max: 4 }) }),
  { arbitrary: fc.record({ t: fc.constant('fork' as const), p: nat }), weight: 2 },
  fc.record({ t: fc.constant('exec' as const), p: nat, text: fc.integer({ min: 0, max: 3 }), data: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ t: fc.constant('exit' as const), p: nat }),
  { arbitrary: fc.record({ t: fc.constant('touch' as const), p: nat, r: nat, page: nat, write: fc.boolean(), value: fc.integer({ min: 1, max: 255 }) }), weight: 8 },
  fc.record({ t: fc.constant('kill' as const), p: nat }),
);

/** One byte per page (offset 0) of a process; a SHARED region's pages share one cell among all its sharers. */
type Cell = { v: number };

class World {
  readonly u: UnitVm;
  /** Live workload processes: slot → its pages' cells (absent = reads as zero). */
  readonly procs = new Map<number, Map<number, Cell>>();
  private generation = 1;

  constructor(cowBreak: 'block' | 'page') {
    this.u = unitVm({ ramMiB: 16, sanity: 'detail', slots: [1], cowBreak });
  }

  live(i: number): number | null {
    const slots = [...this.procs.keys()].sort((a, b) => a - b);
    return slots.length === 0 ? null : (slots[i % slots.length] ?? null);
  }

  vmp(slot: number): VmProc {
    return this.u.proc(slot);
  }

  fork(from: number): number {
    const vm = this.u.vm;
    const to = vm.procs.findIndex((p, i) => i >= 3 && (p.flags & VMF_INUSE) === 0);
    if (to < 0) return ENOMEM;
    const parent = this.vmp(from);
    const r = forkAddressSpace(vm, parent, this.vmp(to));
    if (r !== OK) return r;
    forkCommit(vm, parent, this.vmp(to), makeEndpoint(this.generation++ % 1000, to));
    const cells = new Map<number, Cell>();
    for (const [page, cell] of this.procs.get(from) ?? new Map<number, Cell>()) {
      const reg = findRegion(parent, page);
      cells.set(page, reg !== null && (reg.flags & VR_SHARED) !== 0 ? cell : { v: cell.v });
    }
    this.procs.set(to, cells);
    return OK;
  }

  exit(slot: number): void {
    const vmp = this.vmp(slot);
    freeAddressSpace(this.u.vm, vmp);
    clearSlot(this.u.vm, vmp);
    this.procs.delete(slot);
  }

  forget(slot: number, from: number, to: number): void {
    const cells = this.procs.get(slot);
    if (cells === undefined) return;
    for (const page of [...cells.keys()]) if (page >= from && page < to) cells.delete(page);
  }

  /** Applies o to a live workload process; with none left, the root forks a new one instead. */
  step(o: Op): void {
    const slot = this.live(o.p);
    if (slot === null) {
      this.fork(1);
      return;
    }
    const vmp = this.vmp(slot);
    const vm = this.u.vm;
    const cells = this.procs.get(slot);
    if (cells === undefined) throw new Error('model: no cells');
    switch (o.t) {
      case 'mmap': {
        const flags = MAP_ANON | (o.flags === 'prealloc' ? MAP_PREALLOC : o.flags === 'shared' ? MAP_SHARED : 0);
        const at = mmapRegion(vm, vmp, 0, o.pages * PAGE, flags, -1);
        if (at === ENOMEM) return;
        expect(at).toBeGreaterThan(0);
        if (o.flags === 'shared') for (let i = 0; i < o.pages; i++) cells.set(at + i * PAGE, { v: 0 });
        return;
      }
      case 'munmap': {
        const r = vmp.regions[o.r % Math.max(1, vmp.regions.length)];
        if (r === undefined) return;
        const pages = r.length / PAGE;
        const from = o.from % pages;
        const len = Math.min(o.len, pages - from);
        const start = r.vaddr + from * PAGE; // read now: a whole-region munmap frees r
        const res = munmapRange(vm, vmp, start, len * PAGE);
        if (res === ENOMEM) return;
        expect(res).toBe(OK);
        this.forget(slot, start, start + len * PAGE);
        return;
      }
      case 'brk': {
        const heap = vmp.heap;
        if (heap === null) return;
        const oldEnd = heap.vaddr + heap.length;
        const res = brkCore(vm, vmp, oldEnd + o.delta * PAGE);
        if (res !== OK) return;
        const h = vmp.heap;
        if (h !== null) this.forget(slot, h.vaddr + h.length, oldEnd);
        return;
      }
      case 'fork':
        this.fork(slot);
        return;
      case 'exec': {
        const image = { name: 'x', text: o.text * PAGE, data: o.data * PAGE, bss: 0, tot: 0, args: PAGE };
        const r = execNewmem(vm, vmp, image);
        if (r === ENOMEM) return;
        expect(typeof r).toBe('object');
        cells.clear();
        return;
      }
      case 'exit':
        this.exit(slot);
        return;
      case 'kill':
        // A fault outside every region: SIGSEGV, the process is killed.
        expect(pageFault(vm, vmp, 0x18fff000, true)).toBe(EFAULT);
        this.exit(slot);
        return;
      case 'touch':
        this.touch(slot, vmp, cells, o);
        return;
    }
  }

  private touch(slot: number, vmp: VmProc, cells: Map<number, Cell>, o: Extract<Op, { t: 'touch' }>): void {
    const r = vmp.regions[o.r % Math.max(1, vmp.regions.length)];
    if (r === undefined) return;
    // A few pages at each end of the region, so that pages are touched again (COW breaks, W regained); a 64 MiB
    // stack is mostly never touched anyway.
    const pages = r.length / PAGE;
    const k = o.page % Math.min(pages, 3);
    const page = o.page % 2 === 0 ? r.vaddr + k * PAGE : r.vaddr + (pages - 1 - k) * PAGE;
    // As the MMU: fault only when the PTE does not allow the access.
    const pte = this.u.state.pte(vmp.endpoint, page);
    const allowed = (pte & PTE.P) !== 0 && (!o.write || (pte & PTE.W) !== 0);
    const res = allowed ? OK : pageFault(this.u.vm, vmp, page, o.write);
    if (res === ENOMEM) {
      this.exit(slot);
      return;
    }
    expect(res).toBe(OK);
    if (o.write) {
      poke(this.u, vmp, page, new Uint8Array([o.value]));
      const cell = cells.get(page);
      if (cell === undefined) cells.set(page, { v: o.value });
      else cell.v = o.value;
    } else {
      expect(peek(this.u, vmp, page, 1)[0]).toBe(cells.get(page)?.v ?? 0);
    }
  }
}

describe('VM model-based sequences (§11.45)', () => {
  it('random mmap/munmap/brk/fork/exec/exit/touch/kill at sanity detail, either cowBreak: checks pass, memory as modelled, pages conserved', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 20, maxLength: 80 }), fc.constantFrom('block' as const, 'page' as const), (ops, cowBreak) => {
        const w = new World(cowBreak);
        const vm = w.u.vm;
        const dirsBefore = vm.slotDirs.filter((d) => d !== 0).length;
        const before = w.u.state.conservedPages();
        expect(w.fork(1)).toBe(OK);
        for (const o of ops) {
          // As VM's main loop does around a request: busy (EXECTMP may be in use), then flush and refill.
          vm.busy = true;
          w.step(o);
          vm.busy = false;
          vm.dirty.clear();
          refillSpares(vm);
          w.u.state.sanityCheck();
          for (const [slot, cells] of w.procs) {
            // Every modelled byte still reads back (COW kept the copies apart).
            for (const [page, cell] of cells) expect(peek(w.u, w.vmp(slot), page, 1)[0]).toBe(cell.v);
          }
        }
        for (const slot of [...w.procs.keys()]) w.exit(slot);
        w.u.state.sanityCheck();
        const newDirs = vm.slotDirs.filter((d) => d !== 0).length - dirsBefore;
        expect(w.u.state.conservedPages()).toBe(before - newDirs);
      }),
      { numRuns: 150 },
    );
  }, 120_000); // 3 s on an idle machine; above 20 s at a load of 20
});
