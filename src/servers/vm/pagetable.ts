// Models VM's i386 page-table code (servers/vm/i386/pagetable.c): one directory frame per slot kept forever,
// table frames per 4 MiB, the page-directory-pointer page, VM's internal page allocation with spares.
// Entry points: vmAllocPage, ptNew, ptEnsureTables, ptWritemap, ptWriteRun, ptClearRun, ptReadPte, ptFree, ptBindEntry.
// DIVERGES: the table frames of a process are also recorded host-side (`tables`), so exec can set them aside.
import { K } from '../../hw/profile.ts';
import { ENOMEM, OK } from '../../include/errno.ts';
import { MAP_NONE, NO_MEM, USER_PDE_FIRST } from '../../include/vm.ts';
import { assert, panic } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import { PTE } from '../../hw/mmu.ts';
import type { PhysMem } from '../../hw/physmem.ts';
import type { Vm, VmProc } from './glo.ts';
import { injectFail } from './glo.ts';

export const PDE_ENTRIES = 1024;
const PTE_WRITE = K.pteWrite;
/** PDE 0: the kernel's identity big page (physical 0–4 MiB), global, supervisor only. */
export const PDE0_BIGPAGE = (PTE.P | PTE.W | PTE.PS | PTE.G) >>> 0;
/** Flags of a user PDE: protection lives in the PTE. */
export const USER_PDE_FLAGS = PTE.P | PTE.W | PTE.U;
/** Flags of a pointer-page entry (and of PDE 1). */
export const PAGEDIR_FLAGS = PTE.P | PTE.W;

/** pt_writemap modes. */
export const WMF_OVERWRITE = 0x1;
export const WMF_WRITEFLAGSONLY = 0x2;

export interface PageTable {
  /** Directory frame; 0 = none. */
  dir: number;
  /** Table frame behind each PDE (0 = none); only PDEs ≥ USER_PDE_FIRST are ever set. */
  tables: Int32Array;
}

export function emptyPageTable(): PageTable {
  return { dir: 0, tables: new Int32Array(PDE_ENTRIES) };
}

/** vm_allocpage: one VM-internal page (not cleared), from the pool, then from the spares; 0 when none. */
export function vmAllocPage(vm: Vm): number {
  // An injected failure stands for "pool and spares exhausted".
  if (injectFail(vm)) return 0;
  const f = vm.alloc.allocPages(1, 0, false);
  if (f !== NO_MEM) return f;
  return vm.spares.pop() ?? 0;
}

/** pt_new: the slot's directory (allocated on first use, then kept), cleared, with PDE 0 and PDE 1. */
export function ptNew(vm: Vm, vmp: VmProc): number {
  let dir = vm.slotDirs[vmp.slot] ?? 0;
  if (dir === 0) {
    dir = vmAllocPage(vm);
    if (dir === 0) return ENOMEM;
    vm.slotDirs[vmp.slot] = dir;
  }
  vm.mem.clock.charge(K.zeroPage);
  vm.mem.clock.charge(K.pteWrite, 2);
  vm.mem.zero(dir * PAGE_SIZE, PAGE_SIZE);
  vm.mem.pteWrite(dir, 0, PDE0_BIGPAGE);
  vm.mem.pteWrite(dir, 1, (vm.pagedirs * PAGE_SIZE + PAGEDIR_FLAGS) >>> 0);
  vmp.pt = { dir, tables: new Int32Array(PDE_ENTRIES) };
  return OK;
}

/** pt_writemap pass 1: a zeroed table for every PDE of [v, v+bytes) that lacks one. Tables made stay on ENOMEM. */
export function ptEnsureTables(vm: Vm, pt: PageTable, v: number, bytes: number): number {
  // Within one table that exists (almost every reference a fork copies): nothing to do, in a body V8 inlines.
  const first = v >>> 22;
  if (first === (v + bytes - 1) >>> 22 && (pt.tables[first] ?? 0) !== 0 && bytes > 0) return OK;
  return makeTables(vm, pt, v, bytes);
}

/** ptEnsureTables' loop, for ranges that may lack a table. */
function makeTables(vm: Vm, pt: PageTable, v: number, bytes: number): number {
  // if/panic, not assert(…, () => …): this runs per reference, and a closure per call is not free.
  if (!(bytes > 0 && v >= USER_PDE_FIRST * 4 * 1024 * 1024)) panic(`pt: tables for 0x${v.toString(16)}+${bytes} outside user space`);
  const last = (v + bytes - 1) >>> 22;
  for (let i = v >>> 22; i <= last; i++) {
    if ((pt.tables[i] ?? 0) !== 0) continue;
    if (pt.dir !== 0) {
      const pde = vm.mem.pteRead(pt.dir, i);
      if ((pde & PTE.PS) !== 0) panic(`pt: PDE ${i} is a big page`);
    }
    const f = vmAllocPage(vm);
    if (f === 0) return ENOMEM;
    vm.mem.clock.charge(K.zeroPage);
    vm.mem.clock.charge(K.pteWrite);
    vm.mem.zero(f * PAGE_SIZE, PAGE_SIZE);
    pt.tables[i] = f;
    if (pt.dir !== 0) vm.mem.pteWrite(pt.dir, i, (f * PAGE_SIZE + USER_PDE_FLAGS) >>> 0);
  }
  return OK;
}

/**
 * pt_writemap(pt, v, phys, bytes, flags, mode): map [v, v+bytes) to phys (MAP_NONE with flags 0 unmaps). Replacing a
 * present PTE needs WMF_OVERWRITE; WMF_WRITEFLAGSONLY keeps each PTE's frame. ENOMEM only from pass 1.
 */
export function ptWritemap(vm: Vm, pt: PageTable, v: number, phys: number, bytes: number, flags: number, mode: number): number {
  const pages = bytes / PAGE_SIZE;
  assert(Number.isInteger(pages) && v % PAGE_SIZE === 0, () => `pt_writemap: unaligned 0x${v.toString(16)}+${bytes}`);
  if (phys === MAP_NONE) {
    assert(flags === 0, 'pt_writemap: MAP_NONE with flags');
    ptClearRun(vm.mem, pt, v, pages);
    return OK;
  }
  const r = ptEnsureTables(vm, pt, v, bytes);
  if (r !== OK) return r;
  const mem = vm.mem;
  mem.clock.charge(K.pteWrite, pages);
  for (let i = 0; i < pages; i++) {
    const va = v + i * PAGE_SIZE;
    const table = tableOf(pt, va);
    const idx = (va >>> 12) & 0x3ff;
    const old = mem.pteRead(table, idx);
    if ((old & PTE.P) !== 0 && (mode & (WMF_OVERWRITE | WMF_WRITEFLAGSONLY)) === 0) {
      panic(`pt_writemap: PTE of 0x${va.toString(16)} already present`);
    }
    const frameBits = (mode & WMF_WRITEFLAGSONLY) !== 0 ? old & 0xfffff000 : phys + i * PAGE_SIZE;
    mem.pteWrite(table, idx, (frameBits + flags) >>> 0);
  }
  return OK;
}

function tableOf(pt: PageTable, va: number): number {
  const t = pt.tables[va >>> 22] ?? 0;
  if (t === 0) noTable(va);
  return t;
}

/**
 * Hot path: PTEs of `pages` pages at v → frames firstFrame.. with `flags` (tables must exist; overwrites). One
 * typed-array loop per table.
 */
export function ptWriteRun(mem: PhysMem, pt: PageTable, v: number, firstFrame: number, pages: number, flags: number): void {
  if (pages !== 1) {
    writeRunLoop(mem, pt, v, firstFrame, pages, flags);
    return;
  }
  // A one-page block (most of a forked address space): one store, in a body small enough for V8 to inline.
  mem.clock.charge(PTE_WRITE, 1);
  const table = pt.tables[v >>> 22] ?? 0;
  if (table === 0) noTable(v);
  mem.frameWordsForWrite(table)[(v >>> 12) & 0x3ff] = firstFrame * PAGE_SIZE + flags;
}

/** ptWriteRun of several pages: one typed-array loop per table. */
function writeRunLoop(mem: PhysMem, pt: PageTable, v: number, firstFrame: number, pages: number, flags: number): void {
  let vp = v >>> 12;
  let pte = firstFrame * PAGE_SIZE + flags;
  let left = pages;
  mem.clock.charge(PTE_WRITE, pages);
  while (left > 0) {
    const table = pt.tables[vp >>> 10] ?? 0;
    if (table === 0) noTable(vp * PAGE_SIZE);
    const idx = vp & 0x3ff;
    const end = Math.min(PDE_ENTRIES, idx + left);
    const words = mem.frameWordsForWrite(table);
    for (let i = idx; i < end; i++) {
      words[i] = pte;
      pte += PAGE_SIZE;
    }
    vp += end - idx;
    left -= end - idx;
  }
}

/** Panics: no table maps v (a caller's broken invariant: tables must exist). */
function noTable(v: number): never {
  return panic(`pt: no page table for 0x${v.toString(16)}`);
}

/** Clears the PTEs of `pages` pages at v (missing tables are skipped: nothing is mapped there). */
export function ptClearRun(mem: PhysMem, pt: PageTable, v: number, pages: number): void {
  let vp = v >>> 12;
  let left = pages;
  mem.clock.charge(K.pteWrite, pages);
  while (left > 0) {
    const idx = vp & 0x3ff;
    const end = Math.min(PDE_ENTRIES, idx + left);
    const table = pt.tables[vp >>> 10] ?? 0;
    if (table !== 0) mem.clearWords(table, idx, end);
    vp += end - idx;
    left -= end - idx;
  }
}

/** The PTE for v, or 0 when no table covers it. */
export function ptReadPte(mem: PhysMem, pt: PageTable, v: number): number {
  const table = pt.tables[v >>> 22] ?? 0;
  return table === 0 ? 0 : mem.pteRead(table, (v >>> 12) & 0x3ff);
}

/** pt_free: frees every table frame and clears the user PDEs; the directory stays with the slot. */
export function ptFree(vm: Vm, pt: PageTable): void {
  for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) {
    const t = pt.tables[i] ?? 0;
    if (t === 0) continue;
    pt.tables[i] = 0;
    if (pt.dir !== 0) vm.mem.pteWrite(pt.dir, i, 0);
    vm.alloc.freePages(t, 1);
  }
}

/** Rewrites the user PDEs of the directory from `tables` (exec rollback). */
export function ptRewritePdes(vm: Vm, pt: PageTable): void {
  assert(pt.dir !== 0, 'pt: rewrite PDEs without a directory');
  for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) {
    const t = pt.tables[i] ?? 0;
    vm.mem.pteWrite(pt.dir, i, t === 0 ? 0 : (t * PAGE_SIZE + USER_PDE_FLAGS) >>> 0);
  }
}

/** pt_bind's VM half: page_directories[slot] = directory | P|W (the caller then tells the kernel, SETCR3). */
export function ptBindEntry(vm: Vm, vmp: VmProc): void {
  assert(vmp.pt.dir !== 0, () => `pt_bind: slot ${vmp.slot} has no directory`);
  vm.mem.clock.charge(K.pteWrite);
  vm.mem.pteWrite(vm.pagedirs, vmp.slot, (vmp.pt.dir * PAGE_SIZE + PAGEDIR_FLAGS) >>> 0);
}

/** Clears page_directories[slot] (exit). */
export function ptUnbindEntry(vm: Vm, slot: number): void {
  vm.mem.clock.charge(K.pteWrite);
  vm.mem.pteWrite(vm.pagedirs, slot, 0);
}
