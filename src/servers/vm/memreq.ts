// Models VM's side of the kernel's memory requests (servers/vm/main.c do_memory, region.c map_handle_memory, and the
// COW/safemap handlers of c5b309ff0): CHECK, COWMAP, SMAP, SUNMAP. Entry points: cowmap, smap, sunmap, memreq,
// handleMemreqs.
// DIVERGES: COWMAP falls back to a byte copy where sharing by reference is not allowed; sharing state is per
// reference; SUNMAP leaves the grantee a private snapshot (spec/vm.md §7).
import { EDEADSRCDST, EFAULT, ENOMEM, ENXIO, OK } from '../../include/errno.ts';
import { SYS_VMCTL, VMCTL_MEMREQ_GET, VMCTL_MEMREQ_REPLY, VMPTYPE_CHECK, VMPTYPE_COWMAP, VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../include/com.ts';
import type { Message } from '../../include/ipc.ts';
import { VR_LOWER16MB, VR_LOWER1MB, VR_PHYS64K, VR_WRITABLE } from '../../include/vm.ts';
import { assert } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { Proc } from '../../libsys/proc.ts';
import type { Vm, VmProc } from './glo.ts';
import { VMF_HASPT, vmTrace, vmpOf } from './glo.ts';
import { memtypeOf } from './memtypes.ts';
import { ptClearRun } from './pagetable.ts';
import {
  copyBlock,
  cowShared,
  fillRange,
  findRegion,
  handleMemory,
  linkRef,
  makePrivate,
  mapRef,
  physAddrOf,
  refsIn,
  splitAt,
  unreference,
} from './region.ts';
import type { Region } from './region.ts';
import { sanityAt } from './sanity.ts';
import { flushDirty } from './utility.ts';

/** The regions covering [start, start+len) in order, or null when a page lies outside every region. */
function rangeRegions(vmp: VmProc, start: number, len: number): Region[] | null {
  const out: Region[] = [];
  let v = start;
  while (v < start + len) {
    const r = findRegion(vmp, v);
    if (r === null) return null;
    out.push(r);
    v = r.vaddr + r.length;
  }
  return out;
}

/** Splits r's blocks at region offsets off and off+len. */
function splitEnds(vm: Vm, r: Region, off: number, len: number): number {
  const res = splitAt(vm, r, off);
  return res === OK ? splitAt(vm, r, off + len) : res;
}

/** Drops the destination's references in [off, off+len) and their PTEs (old contents discarded). */
function dropRange(vm: Vm, r: Region, off: number, len: number): void {
  for (const ref of refsIn(r, off, off + len)) unreference(vm, ref);
  ptClearRun(vm.mem, r.owner.pt, r.vaddr + off, len / PAGE_SIZE);
  vm.dirty.add(r.owner);
}

/** COWMAP's fallback: make both sides present (destination writable), then copy page by page. */
function byteCopy(vm: Vm, dst: VmProc, d: number, src: VmProc, s: number, len: number): number {
  let r = handleMemory(vm, src, s, len, false);
  if (r === OK) r = handleMemory(vm, dst, d, len, true);
  if (r !== OK) return r;
  for (let i = 0; i < len; i += PAGE_SIZE) {
    const ps = physAddrOf(src, s + i);
    const pd = physAddrOf(dst, d + i);
    assert(ps >= 0 && pd >= 0, 'cowmap: page missing after handleMemory');
    vm.mem.copy(pd, ps, PAGE_SIZE);
  }
  return OK;
}

const NO_COW_FLAGS = VR_LOWER16MB | VR_LOWER1MB | VR_PHYS64K;

/** COWMAP(dst, d, src, s, len): the destination range references the source's blocks copy-on-write. */
export function cowmap(vm: Vm, dst: VmProc, d: number, src: VmProc, s: number, len: number): number {
  if (len <= 0) return OK;
  const sRegs = rangeRegions(src, s, len);
  const dRegs = rangeRegions(dst, d, len);
  if (sRegs === null || dRegs === null) return EFAULT;
  if (dRegs.some((r) => (r.flags & VR_WRITABLE) === 0)) return EFAULT;
  const sr = sRegs[0];
  const dr = dRegs[0];
  assert(sr !== undefined && dr !== undefined, 'cowmap: empty range');
  const soff = s - sr.vaddr;
  const doff = d - dr.vaddr;
  const fallback =
    src === dst ||
    sRegs.length > 1 ||
    dRegs.length > 1 ||
    !memtypeOf(dr.flags).cowmapDestination ||
    (dr.flags & NO_COW_FLAGS) !== 0 ||
    refsIn(dr, doff, doff + len).some((ref) => ref.mode === 'smap');
  if (fallback) return byteCopy(vm, dst, d, src, s, len);
  const smt = memtypeOf(sr.flags);
  let res = smt.populate ? fillRange(vm, sr, soff, soff + len) : OK;
  if (res === OK) res = splitEnds(vm, sr, soff, len);
  if (res === OK) res = splitEnds(vm, dr, doff, len);
  if (res !== OK) return res;
  dropRange(vm, dr, doff, len);
  for (const sref of refsIn(sr, soff, soff + len)) {
    const nref = linkRef(vm, dr, sref.block, doff + (sref.offset - soff), 'private', false);
    if (nref === null) return ENOMEM;
    if (sref.mode === 'smap' || smt.cowmapCopiesSource) {
      if (copyBlock(vm, nref) !== OK) {
        unreference(vm, nref);
        return ENOMEM;
      }
      continue;
    }
    mapRef(vm, nref);
    mapRef(vm, sref);
  }
  return OK;
}

/** SMAP(dst, d, src, s, len, writable): the destination range shares the source's pages (safemap). */
export function smap(vm: Vm, dst: VmProc, d: number, src: VmProc, s: number, len: number, wr: boolean): number {
  if (len <= 0) return OK;
  const sr = findRegion(src, s);
  const dr = findRegion(dst, d);
  if (sr === null || dr === null || s + len > sr.vaddr + sr.length || d + len > dr.vaddr + dr.length) return EFAULT;
  if (!memtypeOf(dr.flags).smapDestination) return EFAULT;
  const soff = s - sr.vaddr;
  const doff = d - dr.vaddr;
  if (wr) {
    if ((sr.flags & VR_WRITABLE) === 0 || (dr.flags & VR_WRITABLE) === 0) return EFAULT;
    if (refsIn(sr, soff, soff + len).some((ref) => ref.mode === 'smap' && !ref.smapWritable)) return EFAULT;
  }
  let res = memtypeOf(sr.flags).populate ? fillRange(vm, sr, soff, soff + len) : OK;
  if (res === OK) res = splitEnds(vm, sr, soff, len);
  if (res === OK) res = splitEnds(vm, dr, doff, len);
  if (res !== OK) return res;
  dropRange(vm, dr, doff, len);
  const srcWritable = (sr.flags & VR_WRITABLE) !== 0;
  for (const sref of refsIn(sr, soff, soff + len)) {
    if (sref.mode === 'private' && cowShared(sref.block) && copyBlock(vm, sref) !== OK) return ENOMEM;
    if (sref.mode !== 'smap') {
      vm.slab.use(sref, () => {
        sref.mode = 'smap';
        sref.smapWritable = srcWritable;
      });
    }
    const nref = linkRef(vm, dr, sref.block, doff + (sref.offset - soff), 'smap', wr);
    if (nref === null) {
      if (sref.block.refcount === 1) makePrivate(vm, sref);
      return ENOMEM;
    }
    mapRef(vm, nref);
    mapRef(vm, sref);
  }
  return OK;
}

/** SUNMAP(grantee, d, len): the grantee's shared pages in the range become a private snapshot. */
export function sunmap(vm: Vm, g: VmProc, d: number, len: number): number {
  for (const r of g.regions.filter((x) => x.vaddr < d + len && d < x.vaddr + x.length)) {
    const off = Math.max(d, r.vaddr) - r.vaddr;
    const end = Math.min(d + len, r.vaddr + r.length) - r.vaddr;
    const res = splitEnds(vm, r, off, end - off);
    if (res !== OK) return res;
    for (const ref of refsIn(r, off, end)) {
      if (ref.mode !== 'smap') continue;
      if (ref.block.refcount > 1) {
        if (copyBlock(vm, ref) !== OK) return ENOMEM;
      } else {
        makePrivate(vm, ref);
      }
    }
  }
  vm.dirty.add(g);
  return OK;
}

/** One memory request (the fields of VMCTL_MEMREQ_GET's reply) → the result for MEMREQ_REPLY. */
export function memreq(vm: Vm, m: Message): number {
  const type = m.reqType as number;
  const target = vmpOf(vm, m.target);
  const len = typeof m.length === 'number' ? m.length : 0;
  const addr = typeof m.addr === 'number' ? m.addr : 0;
  if (type === VMPTYPE_SUNMAP) return target === null || (target.flags & VMF_HASPT) === 0 ? OK : sunmap(vm, target, addr, len);
  if (target === null) return EDEADSRCDST;
  if ((target.flags & VMF_HASPT) === 0) return ENXIO;
  if (type === VMPTYPE_CHECK) return handleMemory(vm, target, addr, len, m.flag === 1);
  const src = vmpOf(vm, m.ep2);
  if (src === null) return EDEADSRCDST;
  if ((src.flags & VMF_HASPT) === 0) return ENXIO;
  const s = typeof m.addr2 === 'number' ? m.addr2 : 0;
  if (type === VMPTYPE_COWMAP) return cowmap(vm, target, addr, src, s, len);
  if (type === VMPTYPE_SMAP) return smap(vm, target, addr, src, s, len, m.flag === 1);
  return EFAULT;
}

/** On a notification from SYSTEM: fetch and answer memory requests until none is left. */
export async function handleMemreqs(vm: Vm, p: Proc): Promise<void> {
  for (;;) {
    const r = await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_MEMREQ_GET });
    if (r.type !== OK) return;
    vm.busy = true;
    sanityAt(vm, 'functions', 'memreq entry');
    const result = memreq(vm, r);
    sanityAt(vm, 'functions', 'memreq exit');
    await flushDirty(vm, p);
    vm.busy = false;
    if (vm.trace !== null) vmTrace(vm, 'memreq', r.target as number, { vaddr: r.addr as number, result });
    await p.kernelCall({ type: SYS_VMCTL, request: VMCTL_MEMREQ_REPLY, requestor: r.requestor, value: result });
    sanityAt(vm, 'top', 'memory request');
  }
}
