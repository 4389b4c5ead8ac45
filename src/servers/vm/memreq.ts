// Models VM's side of the kernel's memory requests (servers/vm/main.c do_memory, region.c map_handle_memory, and the
// COW/safemap handlers of c5b309ff0): CHECK, COWMAP, SMAP, SUNMAP. Entry points: cowmap, smap, sunmap, memreq,
// handleMemreqs.
// DIVERGES: COWMAP falls back to a byte copy where sharing by reference is not allowed; sharing state is per
// reference; SUNMAP leaves the grantee a private snapshot (spec/vm.md §7).
import { K } from '../../hw/profile.ts';
import { EDEADSRCDST, EFAULT, ENOMEM, ENXIO, OK } from '../../include/errno.ts';
import { SYS_VMCTL, VMCTL_MEMREQ_GET, VMCTL_MEMREQ_REPLY, VMPTYPE_CHECK, VMPTYPE_COWMAP, VMPTYPE_SMAP, VMPTYPE_SUNMAP } from '../../include/com.ts';
import type { Message } from '../../include/ipc.ts';
import { VR_WRITABLE } from '../../include/vm.ts';
import { assert } from '../../lib/assert.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import type { Proc } from '../../libsys/proc.ts';
import type { Vm, VmProc } from './glo.ts';
import { VMF_HASPT, markDirty, vmTrace, vmpOf } from './glo.ts';
import { memtypeOf } from './memtypes.ts';
import { ptClearRun, ptWriteRun } from './pagetable.ts';
import { AvlSearch } from '../../lib/avl.ts';
import { PTE } from '../../hw/mmu.ts';
import {
  CONTIG_FLAGS,
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

const USER_PTE = PTE.P | PTE.U;
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
  markDirty(vm, r.owner);
}

/** COWMAP's fallback: make both sides present (destination writable), then copy page by page. */
function byteCopy(vm: Vm, dst: VmProc, d: number, src: VmProc, s: number, len: number): number {
  let r = handleMemory(vm, src, s, len, false);
  if (r === OK) r = handleMemory(vm, dst, d, len, true);
  if (r !== OK) return r;
  for (let i = 0; i < len; i += PAGE_SIZE) {
    const ps = physAddrOf(src, s + i);
    const pd = physAddrOf(dst, d + i);
    // Stryker disable next-line LogicalOperator,StringLiteral: never fails, handleMemory made both pages present
    assert(ps >= 0 && pd >= 0, 'cowmap: page missing after handleMemory');
    vm.mem.clock.chargeCopy(PAGE_SIZE);
    vm.mem.copy(pd, ps, PAGE_SIZE);
  }
  return OK;
}

/** The region holding all of [start, start+len), or null (a page outside every region, or several regions). */
function regionHolding(vmp: VmProc, start: number, len: number): Region | null {
  const r = findRegion(vmp, start);
  return r !== null && start + len <= r.vaddr + r.length ? r : null;
}

/** Does a reference of r intersecting offsets [off, end) have mode smap? */
function hasSmapRef(r: Region, off: number, end: number): boolean {
  const refs = r.refs;
  let c = refs.find(off, AvlSearch.LESS_EQUAL);
  if (c === null || c.key + c.value.block.length <= off) c = refs.find(off, AvlSearch.GREATER_EQUAL);
  for (; c !== null && c.key < end; c = refs.next(c)) if (c.value.mode === 'smap') return true;
  return false;
}

/**
 * Unreferences r's references in [off, end) (split at both ends first, so each starts inside); PTEs are the
 * caller's business.
 */
function unreferenceIn(vm: Vm, r: Region, off: number, end: number): void {
  const refs = r.refs;
  for (let c = refs.find(off, AvlSearch.GREATER_EQUAL); c !== null && c.key < end; c = refs.find(off, AvlSearch.GREATER_EQUAL)) {
    unreference(vm, c.value);
  }
}

/** COWMAP(dst, d, src, s, len): the destination range references the source's blocks copy-on-write. */
export function cowmap(vm: Vm, dst: VmProc, d: number, src: VmProc, s: number, len: number): number {
  if (len <= 0) return OK;
  const sr = regionHolding(src, s, len);
  const dr = regionHolding(dst, d, len);
  if (sr === null || dr === null) {
    // A gap (EFAULT) or several regions on a side (byte copy): the rare case, with the general walk.
    const sRegs = rangeRegions(src, s, len);
    const dRegs = rangeRegions(dst, d, len);
    if (sRegs === null || dRegs === null) return EFAULT;
    if (dRegs.some((r) => (r.flags & VR_WRITABLE) === 0)) return EFAULT;
    return byteCopy(vm, dst, d, src, s, len);
  }
  if ((dr.flags & VR_WRITABLE) === 0) return EFAULT;
  const soff = s - sr.vaddr;
  const doff = d - dr.vaddr;
  const dend = doff + len;
  if (src === dst || !memtypeOf(dr.flags).cowmapDestination || (dr.flags & CONTIG_FLAGS) !== 0 || hasSmapRef(dr, doff, dend)) {
    return byteCopy(vm, dst, d, src, s, len);
  }
  const smt = memtypeOf(sr.flags);
  let res = smt.populate ? fillRange(vm, sr, soff, soff + len) : OK;
  if (res === OK) res = splitEnds(vm, sr, soff, len);
  if (res === OK) res = splitEnds(vm, dr, doff, len);
  if (res !== OK) return res;
  // The destination's old references go; its PTEs are rewritten below, run by run, and every page of the range
  // not given a new reference (a gap in the source, or after a failure) is cleared.
  unreferenceIn(vm, dr, doff, dend);
  markDirty(vm, dst);
  const mem = vm.mem;
  const dpt = dst.pt;
  const spt = src.pt;
  const sBase = sr.vaddr;
  const dBase = dr.vaddr;
  const copies = smt.cowmapCopiesSource;
  /** Destination offset up to which PTEs are written. */
  let cur = doff;
  res = OK;
  const srefs = sr.refs;
  let c = srefs.find(soff, AvlSearch.GREATER_EQUAL);
  for (; c !== null && c.key < soff + len; c = srefs.next(c)) {
    const sref = c.value;
    const b = sref.block;
    const at = doff + (sref.offset - soff);
    // Stryker disable next-line all: never true, the source range is filled (or DIRECT, mapped whole) and split at its ends
    if (at > cur) ptClearRun(mem, dpt, dBase + cur, (at - cur) / PAGE_SIZE);
    cur = at;
    const nref = linkRef(vm, dr, b, at, 'private', false);
    if (nref === null) {
      res = ENOMEM;
      break;
    }
    if (sref.mode === 'smap' || copies) {
      if (copyBlock(vm, nref) !== OK) {
        unreference(vm, nref);
        res = ENOMEM;
        break;
      }
    } else {
      // Now COW-shared: two or more private references from anonymous regions, which the WRITABLE rule maps
      // read-only on both sides.
      const frame = b.phys / PAGE_SIZE;
      const pages = b.length / PAGE_SIZE;
      ptWriteRun(mem, dpt, dBase + at, frame, pages, USER_PTE);
      ptWriteRun(mem, spt, sBase + sref.offset, frame, pages, USER_PTE);
      markDirty(vm, src);
    }
    cur = at + b.length;
  }
  // The pages after the last new reference: none unless a link or copy failed (then a run of 0 pages).
  ptClearRun(mem, dpt, dBase + cur, (dend - cur) / PAGE_SIZE);
  return res;
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
  // Stryker disable next-line MethodExpression,LogicalOperator: a shortcut, a region outside the range gets an empty one (splitAt and refsIn do nothing there)
  for (const r of g.regions.filter((x) => x.vaddr < d + len && d < x.vaddr + x.length)) {
    const off = Math.max(d, r.vaddr) - r.vaddr;
    const end = Math.min(d + len, r.vaddr + r.length) - r.vaddr;
    const res = splitEnds(vm, r, off, end - off);
    if (res !== OK) return res;
    // An smap reference always has a sharer here: a sole one reverts to private at once (rule D12).
    for (const ref of refsIn(r, off, end)) if (ref.mode === 'smap' && copyBlock(vm, ref) !== OK) return ENOMEM;
  }
  markDirty(vm, g);
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
    const len = typeof r.length === 'number' ? r.length : 0;
    vm.mem.clock.charge(K.vmRequest);
    vm.mem.clock.charge(K.vmPage, Math.ceil(len / PAGE_SIZE));
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
