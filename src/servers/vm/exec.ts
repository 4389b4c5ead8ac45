// Models VM's exec (servers/vm/exec.c, VM_EXEC_NEWMEM): the new image is built beside the old one, which waits in
// EXECTMP, and swapped in only when everything succeeded. Entry points: execNewmem, doExecNewmem.
// DIVERGES: the old tables are kept (not freed first), so rollback needs no allocation and cannot fail (spec/vm.md §8.6).
import { EINVAL, ENOEXEC, ENOMEM, ENXIO, ESRCH, OK } from '../../include/errno.ts';
import type { Message } from '../../include/ipc.ts';
import {
  EXC_NM_RF_LOAD_TEXT,
  MAP_NONE,
  MINSTACKREGION,
  VM_PROCSTART,
  VM_STACKTOP,
  VR_ANON,
  VR_WRITABLE,
  VRT_HEAP,
  VRT_NONE,
} from '../../include/vm.ts';
import type { ExecImage } from '../../include/vm.ts';
import { assert } from '../../lib/assert.ts';
import { PAGE_SIZE, pagesFor } from '../../lib/units.ts';
import type { Vm, VmProc, VmReply } from './glo.ts';
import { VMF_HASPT, VMF_INUSE, markDirty, vmTrace, vmpOf } from './glo.ts';
import { freeRegions } from './exit.ts';
import { PDE_ENTRIES, ptFree, ptRewritePdes } from './pagetable.ts';
import { newBlock, newRegion } from './region.ts';
import { sanityAt } from './sanity.ts';
import { USER_PDE_FIRST } from '../../include/vm.ts';

export interface ExecLayout {
  textStart: number;
  heapStart: number;
  stackTop: number;
}

const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;

/** Validates an image and computes its page counts; an errno when it is malformed or does not fit. */
export function execSizes(image: ExecImage): { tc: number; dc: number; totc: number; sc: number } | number {
  if (!isSize(image.text) || !isSize(image.data) || !isSize(image.bss) || !isSize(image.tot) || !isSize(image.args)) return EINVAL;
  const tot = Math.max(image.tot, MINSTACKREGION);
  const tc = pagesFor(image.text);
  const dc = Math.max(1, pagesFor(image.data + image.bss));
  const totc = pagesFor(tot);
  const sc = pagesFor(image.args);
  if (dc >= totc) return ENOEXEC;
  if (dc > totc - sc) return ENOMEM;
  return { tc, dc, totc, sc };
}

/** Builds the new regions of vmp (its region list and tables are empty). OK or the first error. */
function buildImage(vm: Vm, vmp: VmProc, s: { tc: number; dc: number; totc: number }): number {
  const flags = VR_ANON | VR_WRITABLE;
  if (s.tc > 0) {
    const text = newRegion(vm, vmp, VM_PROCSTART, s.tc * PAGE_SIZE, flags, VRT_NONE);
    if (text === null) return ENOMEM;
    const r = newBlock(vm, text, 0, s.tc * PAGE_SIZE, MAP_NONE);
    if (r !== OK) return r;
  }
  const heap = newRegion(vm, vmp, VM_PROCSTART + s.tc * PAGE_SIZE, s.dc * PAGE_SIZE, flags, VRT_HEAP);
  if (heap === null) return ENOMEM;
  vmp.heap = heap;
  const r = newBlock(vm, heap, 0, s.dc * PAGE_SIZE, MAP_NONE);
  if (r !== OK) return r;
  sanityAt(vm, 'detail', 'exec: text and heap built');
  const stackPages = s.totc - s.dc;
  const stack = newRegion(vm, vmp, VM_STACKTOP - stackPages * PAGE_SIZE, stackPages * PAGE_SIZE, flags, VRT_NONE);
  return stack === null ? ENOMEM : OK;
}

/** Moves vmp's image (regions, heap, tables) to EXECTMP and leaves vmp empty with fresh user PDEs. */
export function setAside(vm: Vm, vmp: VmProc): void {
  const tmp = vm.exectmp;
  assert((tmp.flags & VMF_INUSE) === 0, 'exec: EXECTMP already in use');
  tmp.flags = VMF_INUSE | VMF_HASPT;
  tmp.endpoint = vmp.endpoint;
  tmp.regions = vmp.regions;
  tmp.heap = vmp.heap;
  tmp.pt = { dir: 0, tables: vmp.pt.tables };
  vmp.regions = [];
  vmp.heap = null;
  vmp.pt = { dir: vmp.pt.dir, tables: new Int32Array(PDE_ENTRIES) };
  for (let i = USER_PDE_FIRST; i < PDE_ENTRIES; i++) vm.mem.pteWrite(vmp.pt.dir, i, 0);
}

function clearExectmp(vm: Vm): void {
  const tmp = vm.exectmp;
  tmp.flags = 0;
  tmp.endpoint = 0;
  tmp.regions = [];
  tmp.heap = null;
  tmp.pt = { dir: 0, tables: new Int32Array(PDE_ENTRIES) };
}

/** Rollback: frees everything new and restores the saved image exactly (no allocation). */
function rollback(vm: Vm, vmp: VmProc): void {
  const tmp = vm.exectmp;
  freeRegions(vm, vmp.regions);
  ptFree(vm, vmp.pt);
  vmp.regions = tmp.regions;
  vmp.heap = tmp.heap;
  vmp.pt = { dir: vmp.pt.dir, tables: tmp.pt.tables };
  ptRewritePdes(vm, vmp.pt);
  clearExectmp(vm);
}

/** Commit: the old image's blocks are unreferenced and its tables freed. */
function commit(vm: Vm): void {
  const tmp = vm.exectmp;
  freeRegions(vm, tmp.regions);
  ptFree(vm, tmp.pt);
  clearExectmp(vm);
}

/** VM_EXEC_NEWMEM core: build, then swap (or roll back). */
export function execNewmem(vm: Vm, vmp: VmProc, image: ExecImage): ExecLayout | number {
  const s = execSizes(image);
  if (typeof s === 'number') return s;
  setAside(vm, vmp);
  const r = buildImage(vm, vmp, s);
  if (r !== OK) {
    rollback(vm, vmp);
    markDirty(vm, vmp);
    return r;
  }
  commit(vm);
  vmp.stacktop = VM_STACKTOP;
  if (typeof image.name === 'string') vmp.name = image.name;
  markDirty(vm, vmp);
  return { textStart: VM_PROCSTART, heapStart: VM_PROCSTART + s.tc * PAGE_SIZE, stackTop: VM_STACKTOP };
}

/** VM_EXEC_NEWMEM {endpoint, image} → {stackTop, flags, textStart, heapStart}. */
export function doExecNewmem(vm: Vm, m: Message): VmReply {
  const vmp = vmpOf(vm, m.endpoint);
  if (vmp === null) return ESRCH;
  if ((vmp.flags & VMF_HASPT) === 0) return ENXIO;
  const image = m.image as ExecImage | undefined;
  if (typeof image !== 'object' || image === null) return EINVAL;
  const r = execNewmem(vm, vmp, image);
  vmTrace(vm, 'exec', vmp.endpoint, { result: typeof r === 'number' ? r : OK });
  if (typeof r === 'number') return r;
  return { result: OK, stackTop: r.stackTop, flags: EXC_NM_RF_LOAD_TEXT, textStart: r.textStart, heapStart: r.heapStart };
}
