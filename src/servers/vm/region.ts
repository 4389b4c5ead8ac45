// Models VM's regions, physical blocks and references (servers/vm/region.c): the writability rule, the revert
// rule, newBlock, unreference, copyBlock, split, the page-fault handler (map_pf) and handleMemory (CHECK).
// Entry points: findRegion, newRegion, removeRegion, newBlock, linkRef (linkRefUnindexed/dropRef for bulk builds),
// unreference (unreferenceAll for a whole region), copyBlock, splitAt, pageFault, handleMemory, fillRange,
// writable/writableBy, mapRef (writeRefPtes for callers that mark the TLB once), physAddrOf. Hot paths use cursors
// and slab open/close: no generator, no closure.
// DIVERGES: handleMemory returns a result and walks several regions (spec/vm.md §6); the share state is kept per
// reference (mode), not per block; with cowBreak 'page' (a what-if switch) a COW break copies only the pages written.
// With sanity off, a region or reference object is the one its slab slot held last, filled afresh (Slab.reusable).
import { EFAULT, ENOMEM, OK } from '../../include/errno.ts';
import {
  MAP_NONE,
  NO_MEM,
  PAF_ALIGN64K,
  PAF_CLEAR,
  PAF_LOWER16MB,
  PAF_LOWER1MB,
  VR_LOWER16MB,
  VR_LOWER1MB,
  VR_PHYS64K,
  VR_WRITABLE,
} from '../../include/vm.ts';
import { assert, panic } from '../../lib/assert.ts';
import { AvlSearch, AvlTree } from '../../lib/avl.ts';
import type { AvlNodeHooks } from '../../lib/avl.ts';
import { PAGE_SIZE } from '../../lib/units.ts';
import { PTE } from '../../hw/mmu.ts';
import type { Vm, VmProc } from './glo.ts';
import { markDirty, touch, vmTrace } from './glo.ts';
import { memtypeOf } from './memtypes.ts';
import { ptClearRun, ptEnsureTables, ptReadPte, ptWriteRun } from './pagetable.ts';
import type { Slab, SlabObj } from './slab.ts';

/**
 * phys_block: one physically contiguous run of frames. Its references form a list (MINIX's firstregion and
 * next_ph_list), oldest first, through PhysRegion.nextRef; refcount = the list's length.
 */
export interface PhysBlock extends SlabObj {
  phys: number;
  length: number;
  refcount: number;
  /** The block's oldest reference, or null. */
  firstRef: PhysRegion | null;
}

export type RefMode = 'private' | 'smap';

/** phys_region: a block mapped into a region at `offset`. */
export interface PhysRegion extends SlabObj {
  block: PhysBlock;
  region: Region;
  offset: number;
  mode: RefMode;
  smapWritable: boolean;
  /** The next reference of the same block, or null (the list of PhysBlock.firstRef). */
  nextRef: PhysRegion | null;
}

export interface Region extends SlabObj {
  vaddr: number;
  length: number;
  flags: number;
  tag: number;
  /** The process whose page table maps this region. */
  owner: VmProc;
  /** References keyed by offset. */
  readonly refs: AvlTree<PhysRegion>;
}

/** A user page's PTE flags before W: present, user. */
export const USER_PTE = PTE.P | PTE.U;

// ------------------------------------------------------------------ lookups

/** Index of the region containing v in vmp.regions, or -1. */
export function regionIndex(vmp: VmProc, v: number): number {
  const rs = vmp.regions;
  let lo = 0;
  let hi = rs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const r = rs[mid];
    assert(r !== undefined, 'regionIndex: hole in region list');
    if (v < r.vaddr) hi = mid - 1;
    else if (v >= r.vaddr + r.length) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** map_lookup: the region containing v, or null (also for a process without regions). */
export function findRegion(vmp: VmProc, v: number): Region | null {
  const i = regionIndex(vmp, v);
  return i < 0 ? null : (vmp.regions[i] ?? null);
}

/** The reference covering region offset `off`, or null. */
export function refAt(r: Region, off: number): PhysRegion | null {
  const c = r.refs.find(off, AvlSearch.LESS_EQUAL);
  if (c === null) return null;
  return off < c.key + c.value.block.length ? c.value : null;
}

/** The references intersecting region offsets [off, end), in offset order. */
export function refsIn(r: Region, off: number, end: number): PhysRegion[] {
  const out: PhysRegion[] = [];
  const refs = r.refs;
  let c = refs.find(off, AvlSearch.LESS_EQUAL);
  if (c === null || c.key + c.value.block.length <= off) c = refs.find(off, AvlSearch.GREATER_EQUAL);
  for (; c !== null && c.key < end; c = refs.next(c)) out.push(c.value);
  return out;
}

/** Physical byte address behind v of vmp according to VM's metadata, or -1. */
export function physAddrOf(vmp: VmProc, v: number): number {
  const r = findRegion(vmp, v);
  if (r === null) return -1;
  const off = v - r.vaddr;
  const ref = refAt(r, off);
  return ref === null ? -1 : ref.block.phys + (off - ref.offset);
}

// ------------------------------------------------------------------ the rules

/** WRITABLE(ref): whether the reference may be mapped writable. */
export function writable(ref: PhysRegion): boolean {
  return writableBy(ref.region.flags, ref.mode, ref.smapWritable, ref.block.refcount);
}

/** WRITABLE from its inputs: region flags, reference mode and smapWritable, block refcount. */
export function writableBy(regionFlags: number, mode: RefMode, smapWritable: boolean, refcount: number): boolean {
  if (memtypeOf(regionFlags).alwaysWritable) return true;
  if ((regionFlags & VR_WRITABLE) === 0) return false;
  if (mode === 'smap') return smapWritable;
  return refcount === 1;
}

/** Writes every PTE of ref by the rule: phys + i·4096 | P | U | (W iff WRITABLE). Tables must exist. */
export function mapRef(vm: Vm, ref: PhysRegion): void {
  writeRefPtes(vm, ref);
  markDirty(vm, ref.region.owner);
}

/** mapRef without marking the owner's TLB dirty: for callers that mark it once for many references. */
export function writeRefPtes(vm: Vm, ref: PhysRegion): void {
  const r = ref.region;
  const b = ref.block;
  const w = writableBy(r.flags, ref.mode, ref.smapWritable, b.refcount);
  ptWriteRun(vm.mem, r.owner.pt, r.vaddr + ref.offset, b.phys / PAGE_SIZE, b.length / PAGE_SIZE, USER_PTE | (w ? PTE.W : 0));
}

/** Is the block COW-shared (≥ 2 private references from regions that COW-share)? */
export function cowShared(b: PhysBlock): boolean {
  let n = 0;
  for (let ref = b.firstRef; ref !== null; ref = ref.nextRef) if (ref.mode === 'private' && memtypeOf(ref.region.flags).cowSharable) n++;
  return n >= 2;
}

/** The block's references, oldest first (a new array). */
export function refsOf(b: PhysBlock): PhysRegion[] {
  const out: PhysRegion[] = [];
  for (let ref = b.firstRef; ref !== null; ref = ref.nextRef) out.push(ref);
  return out;
}

/** Physical allocation flags for a region's blocks. */
export function pafFlags(regionFlags: number): number {
  return (
    ((regionFlags & VR_PHYS64K) !== 0 ? PAF_ALIGN64K : 0) |
    ((regionFlags & VR_LOWER16MB) !== 0 ? PAF_LOWER16MB : 0) |
    ((regionFlags & VR_LOWER1MB) !== 0 ? PAF_LOWER1MB : 0)
  );
}

// ------------------------------------------------------------------ regions

/** A new empty region in vmp's sorted list; null = ENOMEM. The range must be free (panic otherwise). */
export function newRegion(vm: Vm, vmp: VmProc, vaddr: number, length: number, flags: number, tag: number): Region | null {
  const r = allocRegion(vm, vmp, vaddr, length, flags, tag);
  if (r !== null) insertRegion(vmp, r);
  return r;
}

/** A region object not yet in any list (munmap's upper part); null = ENOMEM. */
export function allocRegion(vm: Vm, vmp: VmProc, vaddr: number, length: number, flags: number, tag: number): Region | null {
  if (!(vaddr % PAGE_SIZE === 0 && length > 0 && length % PAGE_SIZE === 0)) panic(`newRegion: bad range 0x${vaddr.toString(16)}+${length}`);
  const slab = vm.slab;
  if (!slab.claim('region')) return null;
  // A region slot only ever holds regions. Reused (sanity off), a fork's child region is an old object, so that
  // writing it into each new reference is no old-to-young store (a write-barrier call per page).
  const old = slab.reusable() as Region | null;
  const r =
    old === null
      ? slab.place<Region>('region', { _slab: null, vaddr, length, flags, tag, owner: vmp, refs: new AvlTree<PhysRegion>(nodeHooks(slab)) })
      : slab.place('region', refill(old, vmp, vaddr, length, flags, tag));
  touch(vm, vmp);
  return r;
}

/** A reference tree's node storage: VM's slab. */
function nodeHooks(slab: Slab): AvlNodeHooks {
  return { alloc: () => slab.allocNode(), free: () => { slab.freeNode(); }, allocMany: (k) => slab.allocNodes(k) };
}

/** A freed region object given a new range and owner; its tree, emptied before every free, is kept. */
function refill(r: Region, vmp: VmProc, vaddr: number, length: number, flags: number, tag: number): Region {
  assert(r.refs.size === 0, 'allocRegion: a freed region kept references');
  r.vaddr = vaddr;
  r.length = length;
  r.flags = flags;
  r.tag = tag;
  r.owner = vmp;
  return r;
}

/** Puts r into vmp's list at its place; panics on overlap. */
export function insertRegion(vmp: VmProc, r: Region): void {
  const rs = vmp.regions;
  let i = rs.length;
  while (i > 0 && (rs[i - 1]?.vaddr ?? 0) > r.vaddr) i--;
  const prev = rs[i - 1];
  const next = rs[i];
  if (!(prev === undefined || prev.vaddr + prev.length <= r.vaddr)) panic(`newRegion: 0x${r.vaddr.toString(16)} overlaps a region`);
  if (!(next === undefined || r.vaddr + r.length <= next.vaddr)) panic(`newRegion: 0x${r.vaddr.toString(16)} overlaps a region`);
  rs.splice(i, 0, r);
}

/** Removes a whole region: every reference unreferenced, its PTEs cleared, the object freed. */
export function removeRegion(vm: Vm, vmp: VmProc, r: Region): void {
  unreferenceAll(vm, r);
  ptClearRun(vm.mem, vmp.pt, r.vaddr, r.length / PAGE_SIZE);
  markDirty(vm, vmp);
  const i = vmp.regions.indexOf(r);
  assert(i >= 0, 'removeRegion: region not in its process');
  vmp.regions.splice(i, 1);
  if (vmp.heap === r) vmp.heap = null;
  vm.slab.free(r);
}

// ------------------------------------------------------------------ blocks and references

/**
 * Adds a reference to `block` at region offset `off` (tables for it made first); refcount + 1. No PTEs written.
 * null = ENOMEM, nothing changed (tables made stay).
 */
export function linkRef(vm: Vm, region: Region, block: PhysBlock, off: number, mode: RefMode, smapWritable: boolean): PhysRegion | null {
  const ref = allocRef(vm, region, block, off, mode, smapWritable);
  if (ref === null) return null;
  if (!region.refs.insert(off, ref)) {
    vm.slab.free(ref);
    return null;
  }
  attach(vm, block, ref);
  return ref;
}

/**
 * linkRef without the insert into the region's tree, for callers that build the tree at once (fork). The caller
 * inserts the reference, or gives it up with dropRef. null = ENOMEM, nothing changed (tables made stay).
 */
export function linkRefUnindexed(vm: Vm, region: Region, block: PhysBlock, off: number, mode: RefMode, smapWritable: boolean): PhysRegion | null {
  const ref = allocRef(vm, region, block, off, mode, smapWritable);
  if (ref !== null) attach(vm, block, ref);
  return ref;
}

/** Unreferences a reference that never made it into its region's tree (an unwound linkRefUnindexed). */
export function dropRef(vm: Vm, ref: PhysRegion): void {
  detachFromBlock(vm, ref);
  vm.slab.free(ref);
}

/** A reference object, with the page tables it needs; null = ENOMEM. The slot's last object is reused if offered. */
function allocRef(vm: Vm, region: Region, block: PhysBlock, off: number, mode: RefMode, smapWritable: boolean): PhysRegion | null {
  if (ptEnsureTables(vm, region.owner.pt, region.vaddr + off, block.length) !== OK) return null;
  const slab = vm.slab;
  if (!slab.claim('physRegion')) return null;
  // A physRegion slot only ever holds references.
  const ref = slab.reusable() as PhysRegion | null;
  if (ref === null) return slab.place<PhysRegion>('physRegion', { _slab: null, block, region, offset: off, mode, smapWritable, nextRef: null });
  ref.block = block;
  ref.region = region;
  ref.offset = off;
  ref.mode = mode;
  ref.smapWritable = smapWritable;
  ref.nextRef = null;
  return slab.place('physRegion', ref);
}

/** Puts ref (not on any list) at the end of its block's list: refcount + 1. */
function attach(vm: Vm, block: PhysBlock, ref: PhysRegion): void {
  const slab = vm.slab;
  let last = block.firstRef;
  if (last === null) {
    slab.open(block);
    block.firstRef = ref;
  } else {
    for (let next = last.nextRef; next !== null; next = next.nextRef) last = next;
    slab.open(last);
    last.nextRef = ref;
    slab.close(last);
    slab.open(block);
  }
  block.refcount++;
  slab.close(block);
}

/**
 * newBlock(r, off, len, what): a block of len bytes at region offset off — fresh zeroed pages (what = MAP_NONE,
 * with the region's PHYS64K/LOWER flags) or the physical address `what` — with one private reference and its
 * PTEs. Any failure undoes everything: ENOMEM.
 */
export function newBlock(vm: Vm, r: Region, off: number, len: number, what: number): number {
  const pages = len / PAGE_SIZE;
  if (!(Number.isInteger(pages) && pages >= 1 && off % PAGE_SIZE === 0 && off + len <= r.length)) panic(`newBlock: bad range ${off}+${len}`);
  let frame: number;
  if (what === MAP_NONE) {
    frame = vm.alloc.allocPages(pages, PAF_CLEAR | pafFlags(r.flags));
    if (frame === NO_MEM) return ENOMEM;
  } else {
    frame = what / PAGE_SIZE;
  }
  const block = vm.slab.alloc<PhysBlock>('physBlock', { _slab: null, phys: frame * PAGE_SIZE, length: len, refcount: 0, firstRef: null });
  const ref = block === null ? null : linkRef(vm, r, block, off, 'private', false);
  if (ref === null) {
    if (block !== null) vm.slab.free(block);
    if (what === MAP_NONE) vm.alloc.freePages(frame, pages);
    return ENOMEM;
  }
  mapRef(vm, ref);
  if (vm.trace !== null) vmTrace(vm, 'alloc', r.owner.endpoint, { vaddr: r.vaddr + off, pages });
  return OK;
}

/** Detaches ref from its block: refcount − 1; at 0 the block (and its frames, if owned) is freed; else revert rule. */
function detachFromBlock(vm: Vm, ref: PhysRegion): void {
  const b = ref.block;
  const slab = vm.slab;
  const next = ref.nextRef;
  if (b.firstRef === ref) {
    slab.open(b);
    b.firstRef = next;
  } else {
    let prev = b.firstRef;
    while (prev !== null && prev.nextRef !== ref) prev = prev.nextRef;
    assert(prev !== null, 'unreference: reference missing from its block');
    slab.open(prev);
    prev.nextRef = next;
    slab.close(prev);
    slab.open(b);
  }
  b.refcount--;
  slab.close(b);
  if (b.refcount === 0) {
    if (memtypeOf(ref.region.flags).ownsMemory) vm.alloc.freePages(b.phys / PAGE_SIZE, b.length / PAGE_SIZE);
    vm.slab.free(b);
    return;
  }
  revert(vm, b);
}

/** Revert rule: a block left with a single smap reference makes it private (metadata only). */
function revert(vm: Vm, b: PhysBlock): void {
  const only = b.firstRef;
  if (only !== null && only.nextRef === null && only.mode === 'smap') {
    vm.slab.use(only, () => {
      only.mode = 'private';
      only.smapWritable = false;
    });
  }
}

/** unreference: unlinks ref from its region and block and frees it. PTEs are the caller's business. */
export function unreference(vm: Vm, ref: PhysRegion): void {
  const removed = ref.region.refs.remove(ref.offset);
  assert(removed === ref, 'unreference: reference not at its offset');
  detachFromBlock(vm, ref);
  vm.slab.free(ref);
}

/**
 * unreference of every reference of r: the tree is emptied with one clear (its nodes freed at once, not a remove
 * and rebalance per reference), then each reference leaves its block in offset order.
 */
export function unreferenceAll(vm: Vm, r: Region): void {
  const refs = r.refs.values();
  r.refs.clear();
  for (const ref of refs) dropRef(vm, ref);
}

/** Converts an smap reference to private (an SMAP source left alone by a failed link), then applies the revert rule. */
export function makePrivate(vm: Vm, ref: PhysRegion): void {
  vm.slab.use(ref, () => {
    ref.mode = 'private';
    ref.smapWritable = false;
  });
  revert(vm, ref.block);
}

/**
 * copyBlock (break sharing): ref gets a private copy of its whole block (same length, PHYS64K only); its PTEs are
 * rewritten. ENOMEM with nothing changed.
 */
export function copyBlock(vm: Vm, ref: PhysRegion): number {
  const old = ref.block;
  const pages = old.length / PAGE_SIZE;
  const frame = vm.alloc.allocPages(pages, (ref.region.flags & VR_PHYS64K) !== 0 ? PAF_ALIGN64K : 0);
  if (frame === NO_MEM) return ENOMEM;
  const nb = vm.slab.alloc<PhysBlock>('physBlock', { _slab: null, phys: frame * PAGE_SIZE, length: old.length, refcount: 1, firstRef: ref });
  if (nb === null) {
    vm.alloc.freePages(frame, pages);
    return ENOMEM;
  }
  vm.mem.clock.chargeCopy(old.length);
  vm.mem.copy(nb.phys, old.phys, old.length);
  detachFromBlock(vm, ref);
  const slab = vm.slab;
  slab.open(ref);
  ref.block = nb;
  ref.nextRef = null;
  ref.mode = 'private';
  ref.smapWritable = false;
  slab.close(ref);
  mapRef(vm, ref);
  vm.counts.cowBreaks++;
  vm.counts.cowPagesCopied += pages;
  if (vm.trace !== null) vmTrace(vm, 'cow-break', ref.region.owner.endpoint, { vaddr: ref.region.vaddr + ref.offset, pages });
  return OK;
}

/**
 * split(ref, point): if region offset `point` falls strictly inside ref's block, splits the block in two for all
 * its references (same modes; frames and PTEs unchanged). ENOMEM with nothing changed.
 */
export function splitAt(vm: Vm, r: Region, point: number): number {
  const ref = refAt(r, point);
  if (ref === null || ref.offset === point) return OK;
  const b = ref.block;
  const k = point - ref.offset;
  const slab = vm.slab;
  const nb = slab.alloc<PhysBlock>('physBlock', { _slab: null, phys: b.phys + k, length: b.length - k, refcount: 0, firstRef: null });
  if (nb === null) return ENOMEM;
  const sharers = refsOf(b);
  const halves: PhysRegion[] = [];
  for (const s of sharers) {
    const h = slab.alloc<PhysRegion>('physRegion', {
      _slab: null,
      block: nb,
      region: s.region,
      offset: s.offset + k,
      mode: s.mode,
      smapWritable: s.smapWritable,
      nextRef: null,
    });
    if (h === null) break;
    halves.push(h);
  }
  if (halves.length < sharers.length || !slab.reserveNodes(sharers.length)) {
    for (const h of halves) slab.free(h);
    slab.free(nb);
    return ENOMEM;
  }
  slab.use(b, () => {
    b.length = k;
  });
  for (const h of halves) {
    const ok = h.region.refs.insert(h.offset, h);
    assert(ok, 'split: reserved node missing');
    attach(vm, nb, h);
  }
  return OK;
}

// ------------------------------------------------------------------ faults and CHECK

/**
 * map_pf: handles a fault at addr of vmp. OK, EFAULT (no region, write to a read-only region or smap read-only
 * page: SIGSEGV) or ENOMEM (SIGSEGV).
 */
export function pageFault(vm: Vm, vmp: VmProc, addr: number, write: boolean): number {
  const r = findRegion(vmp, addr);
  if (r === null) return EFAULT;
  if (!memtypeOf(r.flags).faults) panic(`VM: page fault at 0x${addr.toString(16)} in a ${memtypeOf(r.flags).name} region`);
  if (write && (r.flags & VR_WRITABLE) === 0) return EFAULT;
  const page = addr - (addr % PAGE_SIZE);
  const off = page - r.vaddr;
  const ref = refAt(r, off);
  if (ref === null) return newBlock(vm, r, off, PAGE_SIZE, MAP_NONE);
  const pte = ptReadPte(vm.mem, vmp.pt, page);
  if ((pte & PTE.P) !== 0 && (!write || (pte & PTE.W) !== 0)) {
    markDirty(vm, vmp);
    return OK;
  }
  if (!write) {
    mapRef(vm, ref);
    return OK;
  }
  return makeWritable(vm, ref, off, off + PAGE_SIZE);
}

/**
 * A write to region offsets [lo, hi) (page-aligned) needs ref writable: smap read-only → EFAULT; WRITABLE → set W;
 * private shared → breakCow.
 */
function makeWritable(vm: Vm, ref: PhysRegion, lo: number, hi: number): number {
  if (ref.mode === 'smap' && !ref.smapWritable) return EFAULT;
  if (writable(ref)) {
    mapRef(vm, ref);
    return OK;
  }
  return breakCow(vm, ref, lo, hi);
}

/**
 * Region flags whose blocks must stay physically contiguous (device buffers): a COW break copies their blocks whole
 * in either cowBreak mode, and COWMAP never shares into them (byte copy).
 */
export const CONTIG_FLAGS = VR_PHYS64K | VR_LOWER16MB | VR_LOWER1MB;

/**
 * Breaks COW sharing of ref's block for a write to region offsets [lo, hi) (page-aligned). cowBreak 'block'
 * (MINIX): copyBlock of the whole block. 'page' (what-if): the block is split, for every sharer, at the ends of
 * the written part, and only that part is copied. ENOMEM: nothing copied; a split already made stays (frames,
 * bytes and PTEs as before).
 */
function breakCow(vm: Vm, ref: PhysRegion, lo: number, hi: number): number {
  const r = ref.region;
  if (vm.config.cowBreak === 'block' || (r.flags & CONTIG_FLAGS) !== 0) return copyBlock(vm, ref);
  const from = Math.max(lo, ref.offset);
  const to = Math.min(hi, ref.offset + ref.block.length);
  // Split at the upper end first: ref keeps the lower part, so the split at `from` still finds it.
  let res = splitAt(vm, r, to);
  if (res === OK) res = splitAt(vm, r, from);
  if (res !== OK) return res;
  const part = refAt(r, from);
  assert(part !== null && part.offset === from, 'breakCow: no reference at the written part after the split');
  return copyBlock(vm, part);
}

/** Does some page of region offsets [off, end) lack a reference? One cursor walk, no allocation. */
export function hasHole(r: Region, off: number, end: number): boolean {
  const refs = r.refs;
  let cur = off;
  let c = refs.find(off, AvlSearch.LESS_EQUAL);
  if (c === null || c.key + c.value.block.length <= off) c = refs.find(off, AvlSearch.GREATER_EQUAL);
  for (; c !== null && c.key < end; c = refs.next(c)) {
    if (c.key > cur) return true;
    const e = c.key + c.value.block.length;
    if (e > cur) cur = e;
  }
  return cur < end;
}

/** Fills every hole of region offsets [off, end) with one contiguous zeroed block each. */
export function fillRange(vm: Vm, r: Region, off: number, end: number): number {
  if (!hasHole(r, off, end)) return OK;
  const holes: number[] = [];
  let cur = off;
  for (const ref of refsIn(r, off, end)) {
    if (ref.offset > cur) holes.push(cur, ref.offset);
    cur = Math.max(cur, ref.offset + ref.block.length);
  }
  if (cur < end) holes.push(cur, end);
  for (let i = 0; i < holes.length; i += 2) {
    const a = holes[i] ?? 0;
    const b = holes[i + 1] ?? 0;
    const res = newBlock(vm, r, a, b - a, MAP_NONE);
    if (res !== OK) return res;
  }
  return OK;
}

/**
 * handleMemory (CHECK): makes [start, start+len) of vmp present, and writable if `write`, region by region.
 * EFAULT for a gap or a write to read-only memory; the first failure returns, earlier changes stay.
 */
export function handleMemory(vm: Vm, vmp: VmProc, start: number, len: number, write: boolean): number {
  let v = start - (start % PAGE_SIZE);
  const end = Math.ceil((start + len) / PAGE_SIZE) * PAGE_SIZE;
  while (v < end) {
    const r = findRegion(vmp, v);
    if (r === null) return EFAULT;
    if (write && (r.flags & VR_WRITABLE) === 0) return EFAULT;
    const segEnd = Math.min(end, r.vaddr + r.length);
    if (memtypeOf(r.flags).populate) {
      const off = v - r.vaddr;
      const offEnd = segEnd - r.vaddr;
      let res = fillRange(vm, r, off, offEnd);
      if (res !== OK) return res;
      if (write) {
        for (const ref of refsIn(r, off, offEnd)) {
          res = fixWritable(vm, vmp, ref, off, offEnd);
          if (res !== OK) return res;
        }
      }
    }
    v = segEnd;
  }
  return OK;
}

/** CHECK with write of region offsets [lo, hi): a reference whose PTEs lack W is made writable (copy if shared). */
function fixWritable(vm: Vm, vmp: VmProc, ref: PhysRegion, lo: number, hi: number): number {
  if (writable(ref)) {
    const pte = ptReadPte(vm.mem, vmp.pt, ref.region.vaddr + ref.offset);
    if ((pte & PTE.W) === 0) mapRef(vm, ref);
    return OK;
  }
  return makeWritable(vm, ref, lo, hi);
}
