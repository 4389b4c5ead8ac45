// Edge cases of VM's page-table code (src/servers/vm/pagetable.ts) on a booted unit VM: where VM's own pages come
// from, a directory's fixed entries and its reuse, table creation (its limits, failures, big pages, a table set
// without a directory), pt_writemap's modes, the run writers across table boundaries, freeing and rebinding.
import { describe, expect, it } from 'vitest';
import { K } from '../../../../src/hw/profile.ts';
import { ENOMEM, OK } from '../../../../src/include/errno.ts';
import { MAP_NONE, NO_MEM, USER_PDE_FIRST, VM_PROCSTART } from '../../../../src/include/vm.ts';
import { PTE } from '../../../../src/hw/mmu.ts';
import type { Vm } from '../../../../src/servers/vm/glo.ts';
import {
  PAGEDIR_FLAGS,
  PDE0_BIGPAGE,
  USER_PDE_FLAGS,
  WMF_OVERWRITE,
  WMF_WRITEFLAGSONLY,
  emptyPageTable,
  ptBindEntry,
  ptClearRun,
  ptEnsureTables,
  ptFree,
  ptNew,
  ptReadPte,
  ptRewritePdes,
  ptUnbindEntry,
  ptWriteRun,
  ptWritemap,
  vmAllocPage,
} from '../../../../src/servers/vm/pagetable.ts';
import type { PageTable } from '../../../../src/servers/vm/pagetable.ts';
import { PAGE, unitVm } from './helpers.ts';

const TABLE_SPAN = 4 * 1024 * 1024;
/** The first byte of the table after VM_PROCSTART's, and its PDE index. */
const NEXT = VM_PROCSTART + TABLE_SPAN;
const PDE = VM_PROCSTART >>> 22;
const USER_PTE = PTE.P | PTE.U;

/** The next fallible allocation, counting from 1, fails. */
const failNext = (vm: Vm, k = 1): void => {
  vm.inject.failAt = vm.inject.count + k;
};

/** A booted VM and a page table of a fresh slot (slot 7) made by ptNew. */
function withTable() {
  const u = unitVm({ sanity: 'off' });
  const vmp = u.proc(7);
  expect(ptNew(u.vm, vmp)).toBe(OK);
  return { u, vm: u.vm, pt: vmp.pt, vmp };
}

const counted = (vm: Vm, kind: number): number => vm.mem.clock.countByKind[kind] ?? 0;

describe('VM page tables: VM pages and directories', () => {
  it('vmAllocPage takes the pool first, then the spares, then gives 0; an injected failure gives 0', () => {
    const u = unitVm({ sanity: 'off' });
    const vm = u.vm;
    const top = Math.max(...vm.alloc.ranges().map((r) => r.addr + r.size - 1));
    failNext(vm);
    expect(vmAllocPage(vm)).toBe(0);
    expect(vmAllocPage(vm)).toBe(top);
    while (vm.alloc.allocPages(1, 0, false) !== NO_MEM) {
      /* drain the pool */
    }
    const spares = [...vm.spares];
    expect(spares.length).toBeGreaterThan(1);
    expect(vmAllocPage(vm)).toBe(spares.at(-1));
    expect(vm.spares).toEqual(spares.slice(0, -1));
    vm.spares.length = 0;
    expect(vmAllocPage(vm)).toBe(0);
  });

  it('ptNew gives a cleared directory with PDE 0 and PDE 1, kept by the slot and cleared again on reuse', () => {
    const u = unitVm({ sanity: 'off' });
    const vm = u.vm;
    const vmp = u.proc(7);
    const zeroes = counted(vm, K.zeroPage);
    const writes = counted(vm, K.pteWrite);
    expect(ptNew(vm, vmp)).toBe(OK);
    expect(counted(vm, K.zeroPage)).toBe(zeroes + 1);
    expect(counted(vm, K.pteWrite)).toBe(writes + 2);
    const dir = vmp.pt.dir;
    expect(dir).toBeGreaterThan(0);
    expect(vm.slotDirs[7]).toBe(dir);
    expect(vm.mem.pteRead(dir, 0)).toBe(PDE0_BIGPAGE);
    expect(vm.mem.pteRead(dir, 1)).toBe(vm.pagedirs * PAGE + PAGEDIR_FLAGS);
    vm.mem.pteWrite(dir, 500, 0x1234);
    vmp.pt.tables[PDE] = 99;
    expect(ptNew(vm, vmp)).toBe(OK);
    expect(vmp.pt.dir).toBe(dir);
    expect(vm.mem.pteRead(dir, 500)).toBe(0);
    expect(vmp.pt.tables[PDE]).toBe(0);
    // A slot without a directory and no page for one: ENOMEM.
    failNext(vm);
    expect(ptNew(vm, u.proc(8))).toBe(ENOMEM);
    expect(vm.slotDirs[8]).toBe(0);
  });
});

describe('VM page tables: tables', () => {
  it('tables are made zeroed for each 4 MiB the range touches, with their PDEs; existing ones are kept', () => {
    const { vm, pt } = withTable();
    for (const r of vm.alloc.ranges()) vm.mem.poison(r.addr * PAGE, r.size * PAGE);
    const zeroes = counted(vm, K.zeroPage);
    const writes = counted(vm, K.pteWrite);
    // From the last page of one table to the first page of the table after the next: three tables.
    expect(ptEnsureTables(vm, pt, NEXT - PAGE, TABLE_SPAN + 2 * PAGE)).toBe(OK);
    expect(counted(vm, K.zeroPage)).toBe(zeroes + 3);
    expect(counted(vm, K.pteWrite)).toBe(writes + 3);
    for (const i of [PDE, PDE + 1, PDE + 2]) {
      const t = pt.tables[i] ?? 0;
      expect(t).toBeGreaterThan(0);
      expect(vm.mem.pteRead(pt.dir, i)).toBe(t * PAGE + USER_PDE_FLAGS);
      expect(vm.mem.frameWords(t)?.every((w) => w === 0)).toBe(true);
    }
    expect(pt.tables[PDE + 3]).toBe(0);
    const first = pt.tables[PDE];
    expect(ptEnsureTables(vm, pt, VM_PROCSTART, 2 * TABLE_SPAN)).toBe(OK);
    expect(pt.tables[PDE]).toBe(first);
    expect(counted(vm, K.zeroPage)).toBe(zeroes + 3);
  });

  it('tables below user space, for no bytes, or over a big page panic', () => {
    const { vm, pt } = withTable();
    expect(() => ptEnsureTables(vm, pt, USER_PDE_FIRST * TABLE_SPAN - PAGE, 2 * PAGE)).toThrow(
      /outside user space/,
    );
    expect(ptEnsureTables(vm, pt, USER_PDE_FIRST * TABLE_SPAN, PAGE)).toBe(OK);
    expect(() => ptEnsureTables(vm, pt, USER_PDE_FIRST * TABLE_SPAN + PAGE, 0)).toThrow(/outside user space/);
    vm.mem.pteWrite(pt.dir, PDE + 1, PTE.P | PTE.PS);
    expect(() => ptEnsureTables(vm, pt, NEXT, PAGE)).toThrow(/PDE 101 is a big page/);
  });

  it('without a directory the tables are made but no PDE is written; a failed table keeps the ones made', () => {
    const { vm } = withTable();
    const pt: PageTable = emptyPageTable();
    expect(ptEnsureTables(vm, pt, VM_PROCSTART, PAGE)).toBe(OK);
    expect(pt.tables[PDE]).toBeGreaterThan(0);
    failNext(vm, 2);
    expect(ptEnsureTables(vm, pt, NEXT - PAGE, 3 * TABLE_SPAN)).toBe(ENOMEM);
    expect(pt.tables[PDE + 1]).toBeGreaterThan(0);
    expect(pt.tables[PDE + 2]).toBe(0);
    expect(vm.mem.pteRead(0, PDE + 1)).toBe(0);
  });

  it('ptWritemap maps consecutive frames, refuses to replace a present PTE unless told, and can rewrite flags only', () => {
    const { vm, pt } = withTable();
    const writes = counted(vm, K.pteWrite);
    expect(ptWritemap(vm, pt, NEXT - PAGE, 0x300000, 2 * PAGE, USER_PTE, 0)).toBe(OK);
    expect(counted(vm, K.pteWrite)).toBe(writes + 2 + 2);
    expect(ptReadPte(vm.mem, pt, NEXT - PAGE)).toBe(0x300000 + USER_PTE);
    expect(ptReadPte(vm.mem, pt, NEXT)).toBe(0x301000 + USER_PTE);
    expect(ptReadPte(vm.mem, pt, NEXT + PAGE)).toBe(0);
    expect(() => ptWritemap(vm, pt, NEXT, 0x500000, PAGE, USER_PTE, 0)).toThrow(/already present/);
    expect(ptWritemap(vm, pt, NEXT, 0x500000, PAGE, USER_PTE | PTE.W, WMF_OVERWRITE)).toBe(OK);
    expect(ptReadPte(vm.mem, pt, NEXT)).toBe(0x500000 + USER_PTE + PTE.W);
    expect(ptWritemap(vm, pt, NEXT - PAGE, 0x700000, 2 * PAGE, PTE.P, WMF_WRITEFLAGSONLY)).toBe(OK);
    expect(ptReadPte(vm.mem, pt, NEXT - PAGE)).toBe(0x300000 + PTE.P);
    expect(ptReadPte(vm.mem, pt, NEXT)).toBe(0x500000 + PTE.P);
    expect(ptWritemap(vm, pt, NEXT - PAGE, MAP_NONE, 2 * PAGE, 0, 0)).toBe(OK);
    expect([ptReadPte(vm.mem, pt, NEXT - PAGE), ptReadPte(vm.mem, pt, NEXT)]).toEqual([0, 0]);
    expect(() => ptWritemap(vm, pt, NEXT, MAP_NONE, PAGE, PTE.P, 0)).toThrow(/MAP_NONE with flags/);
    expect(() => ptWritemap(vm, pt, NEXT + 8, 0x300000, PAGE, USER_PTE, 0)).toThrow(/unaligned/);
    expect(() => ptWritemap(vm, pt, NEXT, 0x300000, PAGE + 8, USER_PTE, 0)).toThrow(/unaligned/);
    failNext(vm);
    expect(ptWritemap(vm, pt, NEXT + 4 * TABLE_SPAN, 0x300000, PAGE, USER_PTE, 0)).toBe(ENOMEM);
  });

  it('ptWriteRun and ptClearRun cross table boundaries; a run without its table panics, a clear skips it', () => {
    const { vm, pt } = withTable();
    expect(ptEnsureTables(vm, pt, NEXT - 2 * PAGE, 4 * PAGE)).toBe(OK);
    const writes = counted(vm, K.pteWrite);
    ptWriteRun(vm.mem, pt, NEXT - 2 * PAGE, 0x40, 4, USER_PTE);
    ptWriteRun(vm.mem, pt, NEXT + 2 * PAGE, 0x90, 1, USER_PTE | PTE.W);
    expect(counted(vm, K.pteWrite)).toBe(writes + 5);
    const ptes = [-2, -1, 0, 1, 2].map((i) => ptReadPte(vm.mem, pt, NEXT + i * PAGE));
    expect(ptes).toEqual([
      0x40000 + USER_PTE,
      0x41000 + USER_PTE,
      0x42000 + USER_PTE,
      0x43000 + USER_PTE,
      0x90000 + USER_PTE + PTE.W,
    ]);
    expect(() => ptWriteRun(vm.mem, pt, NEXT + TABLE_SPAN, 0x40, 1, USER_PTE)).toThrow(
      /no page table for 0x19800000/,
    );
    expect(() => ptWriteRun(vm.mem, pt, NEXT + TABLE_SPAN - PAGE, 0x40, 2, USER_PTE)).toThrow(
      /no page table for 0x19800000/,
    );
    expect(ptReadPte(vm.mem, pt, NEXT + TABLE_SPAN)).toBe(0);
    // From the middle of the first table, across the second and into the third (which has none).
    ptClearRun(vm.mem, pt, NEXT - PAGE, 1024 + 8);
    expect(counted(vm, K.pteWrite)).toBe(writes + 5 + 1 + 2 + 1024 + 8);
    expect([-2, -1, 0, 1, 2].map((i) => ptReadPte(vm.mem, pt, NEXT + i * PAGE))).toEqual([
      0x40000 + USER_PTE,
      0,
      0,
      0,
      0,
    ]);
  });
});

describe('VM page tables: freeing and binding', () => {
  it('ptFree returns every table frame and clears its PDE; ptRewritePdes writes them back from the record', () => {
    const { vm, pt } = withTable();
    expect(ptEnsureTables(vm, pt, NEXT - PAGE, 2 * PAGE)).toBe(OK);
    const tables = [pt.tables[PDE] ?? 0, pt.tables[PDE + 1] ?? 0];
    const free = vm.alloc.freeCount;
    const saved = pt.tables.slice();
    ptFree(vm, pt);
    expect(vm.alloc.freeCount).toBe(free + 2);
    expect(tables.every((t) => vm.alloc.isFree(t))).toBe(true);
    expect(pt.tables.every((t) => t === 0)).toBe(true);
    expect([vm.mem.pteRead(pt.dir, PDE), vm.mem.pteRead(pt.dir, PDE + 1)]).toEqual([0, 0]);
    const back: PageTable = { dir: pt.dir, tables: saved };
    vm.mem.pteWrite(pt.dir, PDE + 5, 0x777);
    ptRewritePdes(vm, back);
    expect(vm.mem.pteRead(pt.dir, PDE)).toBe((tables[0] ?? 0) * PAGE + USER_PDE_FLAGS);
    expect(vm.mem.pteRead(pt.dir, PDE + 1)).toBe((tables[1] ?? 0) * PAGE + USER_PDE_FLAGS);
    expect(vm.mem.pteRead(pt.dir, PDE + 5)).toBe(0);
    expect(vm.mem.pteRead(pt.dir, 0)).toBe(PDE0_BIGPAGE);
    expect(() => ptRewritePdes(vm, emptyPageTable())).toThrow(/rewrite PDEs without a directory/);
  });

  it('ptFree of a table set without a directory frees the frames and writes no directory', () => {
    const { vm } = withTable();
    const pt = emptyPageTable();
    expect(ptEnsureTables(vm, pt, VM_PROCSTART, PAGE)).toBe(OK);
    const t = pt.tables[PDE] ?? 0;
    // Directory 0 is no directory: frame 0's words stay as they are.
    vm.mem.pteWrite(0, PDE, 0x5a5a5000);
    ptFree(vm, pt);
    expect(vm.alloc.isFree(t)).toBe(true);
    expect(vm.mem.pteRead(0, PDE)).toBe(0x5a5a5000);
  });

  it('ptBindEntry puts the directory in the pointer page at the slot; ptUnbindEntry clears it', () => {
    const { vm, vmp } = withTable();
    const writes = counted(vm, K.pteWrite);
    ptBindEntry(vm, vmp);
    expect(vm.mem.pteRead(vm.pagedirs, 7)).toBe(vmp.pt.dir * PAGE + PAGEDIR_FLAGS);
    ptUnbindEntry(vm, 7);
    expect(vm.mem.pteRead(vm.pagedirs, 7)).toBe(0);
    expect(counted(vm, K.pteWrite)).toBe(writes + 2);
    expect(() => {
      ptBindEntry(vm, { ...vmp, pt: emptyPageTable() });
    }).toThrow(/slot 7 has no directory/);
  });
});

describe('VM page tables: where no table or directory is, nothing is read or written', () => {
  it('a range ending at a table boundary makes no table past it; one starting in a table that exists makes the next', () => {
    const { vm, pt } = withTable();
    expect(ptEnsureTables(vm, pt, NEXT - PAGE, PAGE)).toBe(OK);
    expect(pt.tables[PDE]).toBeGreaterThan(0);
    expect(pt.tables[PDE + 1]).toBe(0);
    expect(ptEnsureTables(vm, pt, NEXT - PAGE, 2 * PAGE)).toBe(OK);
    const next = pt.tables[PDE + 1] ?? 0;
    expect(next).toBeGreaterThan(0);
    expect(vm.mem.pteRead(pt.dir, PDE + 1)).toBe(next * PAGE + USER_PDE_FLAGS);
  });

  it('a table set without a directory reads no directory at frame 0 for big pages', () => {
    const { vm } = withTable();
    vm.mem.pteWrite(0, PDE, PTE.P | PTE.PS);
    const pt = emptyPageTable();
    expect(ptEnsureTables(vm, pt, VM_PROCSTART, PAGE)).toBe(OK);
    expect(pt.tables[PDE]).toBeGreaterThan(0);
  });

  it('an address without a table reads as PTE 0 and a clear there writes nothing, whatever frame 0 holds', () => {
    const { vm, pt } = withTable();
    const idx = (NEXT >>> 12) & 0x3ff;
    vm.mem.pteWrite(0, idx, 0x1234);
    vm.mem.pteWrite(0, idx + 1, 0x5678);
    expect(ptReadPte(vm.mem, pt, NEXT)).toBe(0);
    ptClearRun(vm.mem, pt, NEXT, 2);
    expect([vm.mem.pteRead(0, idx), vm.mem.pteRead(0, idx + 1)]).toEqual([0x1234, 0x5678]);
  });
});
